// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** Node's built-in modules, with and without the `node:` prefix. */
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:*'];

/** Packages that need Node (native modules, servers): never in the renderer, preload or shared code. */
const nodeOnlyPackages = ['sharp', 'better-sqlite3', 'piscina', 'yauzl', 'image-size', 'ws'];

/**
 * The core's own layers, lowest first. A folder may import its own layer and
 * the ones before it, never a later one:
 * util ← store ← jobs/library/cache/pool ← core/app ← cli/host ← electron.
 */
const MAIN_LAYERS = [
  ['util'],
  ['store'],
  ['jobs', 'library', 'cache', 'pool'],
  ['core', 'app'],
  ['cli', 'host'],
  ['electron'],
];

/**
 * Loads the layer rules could not check: a dynamic import of anything but a
 * plain string, and `require` (made with createRequire). Refused everywhere.
 */
const UNCHECKABLE_LOADS = [
  {
    selector: 'ImportExpression[source.type!="Literal"]',
    message: 'import() takes a plain string here, so that the layer rules can check it.',
  },
  {
    selector: 'CallExpression[callee.name=/^(require|createRequire)$/]',
    message: 'No require/createRequire: use import, which the layer rules check.',
  },
  {
    selector: 'MemberExpression[property.name="createRequire"]',
    message: 'No require/createRequire: use import, which the layer rules check.',
  },
];

/**
 * Layer rules: what each folder may import, for static imports and for
 * dynamic `import()` alike. See docs/ARCHITECTURE.md "Layers".
 * @param {{ node?: boolean, electron?: boolean, react?: boolean, packages?: string[],
 *   layers?: string[], mainFolders?: string[] }} forbid
 */
function layer(forbid) {
  /** @type {{ group: string[], message: string }[]} */
  const patterns = [];
  /** @type {{ selector: string, message: string }[]} */
  const dynamic = [];
  /** @param {string[]} group @param {string} regex @param {string} message */
  const ban = (group, regex, message) => {
    patterns.push({ group, message });
    dynamic.push({ selector: `ImportExpression > Literal[value=/${regex}/]`, message });
  };
  if (forbid.node) {
    ban(
      nodeBuiltins,
      '^node:|^(fs|path|os|child_process|worker_threads|net|http|https|crypto|url|util|stream|events)(\\u002F|$)',
      'No Node APIs in this layer.',
    );
  }
  const packages = [...(forbid.node ? nodeOnlyPackages : []), ...(forbid.packages ?? [])];
  if (packages.length) {
    ban(
      packages.flatMap((p) => [p, `${p}/*`]),
      `^(${packages.join('|')})(\\u002F|$)`,
      `Not in this layer: ${packages.join(', ')}.`,
    );
  }
  if (forbid.react) {
    ban(
      ['react', 'react/*', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*'],
      '^(react|react-dom|zustand)(\\u002F|$)',
      'No UI libraries in this layer.',
    );
  }
  if (forbid.electron) {
    ban(
      ['electron', 'electron/*'],
      '^electron(\\u002F|$)',
      'Electron is only imported by the shell (src-main/electron) and the preload.',
    );
  }
  for (const l of forbid.layers ?? []) {
    ban(
      [`**/${l}/**`, `**/${l}`],
      `(^|\\u002F)${l}(\\u002F|$)`,
      `No imports from ${l}: move what is shared to src-shared.`,
    );
  }
  for (const f of forbid.mainFolders ?? []) {
    // Any relative path reaching the folder (`../core/x`, `./../core/x`,
    // `../../src-main/core/x`): matched on its segments, not its spelling.
    ban(
      [`**/${f}/**`, `**/${f}`],
      `(^|\\u002F)${f}(\\u002F|$)`,
      `src-main/${f} is a higher layer: a lower one may not import it (see MAIN_LAYERS).`,
    );
  }
  return {
    'no-restricted-imports': ['error', { patterns }],
    'no-restricted-syntax': ['error', ...dynamic, ...UNCHECKABLE_LOADS],
  };
}

/** One config block per layer of src-main: the outer rules plus the layers above it. */
function mainLayerConfigs() {
  const outer = ['src-renderer', 'src-worker', 'src-preload'];
  return MAIN_LAYERS.map((folders, i) => {
    const above = MAIN_LAYERS.slice(i + 1).flat();
    return {
      files: folders.map((f) => `src-main/${f}/**/*.ts`),
      // Tests may set up with anything (a store test may use the core).
      ignores: ['**/*.test.ts'],
      rules: layer({
        electron: !folders.includes('electron'),
        react: true,
        layers: outer,
        mainFolders: [...above, 'test-support', 'fault'],
      }),
    };
  });
}

export default tseslint.config(
  {
    ignores: ['node_modules', 'out', 'dist', 'test-results', 'playwright-report', '.tmp'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: layer({
      node: true,
      electron: true,
      react: true,
      layers: ['src-main', 'src-renderer', 'src-worker', 'src-preload'],
    }),
  },
  {
    // Files the tests of every layer build (RAW layouts, orientation goldens):
    // they may use Node and sharp, as tests do, but no layer.
    files: ['src-shared/test-support/**/*.ts'],
    rules: layer({
      electron: true,
      react: true,
      layers: ['src-main', 'src-renderer', 'src-worker', 'src-preload'],
    }),
  },
  {
    files: ['src-worker/**/*.ts'],
    rules: layer({
      electron: true,
      react: true,
      packages: ['better-sqlite3', 'ws', 'yauzl'],
      layers: ['src-main', 'src-renderer', 'src-preload'],
    }),
  },
  {
    // Tests and test support: only the outer layer rules.
    files: ['src-main/**/*.ts'],
    rules: layer({ layers: ['src-renderer', 'src-worker', 'src-preload'] }),
  },
  ...mainLayerConfigs(),
  {
    files: ['src-preload/**/*.ts'],
    rules: layer({ node: true, react: true, layers: ['src-main', 'src-renderer', 'src-worker'] }),
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...layer({
        node: true,
        electron: true,
        layers: ['src-main', 'src-worker', 'src-preload'],
      }),
    },
  },
);
