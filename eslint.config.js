// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** Node's built-in modules, with and without the `node:` prefix. */
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:*'];

/**
 * Layer rules: what each folder may import. See STYLE.md "Layers".
 * @param {{ node?: boolean, electron?: boolean, layers: string[] }} forbid
 */
function layer(forbid) {
  /** @type {{ group: string[], message: string }[]} */
  const patterns = [];
  if (forbid.node) {
    patterns.push({ group: nodeBuiltins, message: 'No Node APIs in this layer.' });
    patterns.push({
      group: ['sharp', 'better-sqlite3', 'piscina', 'yauzl', 'image-size'],
      message: 'Node-only library: not in this layer.',
    });
  }
  if (forbid.electron) {
    patterns.push({
      group: ['electron', 'electron/*'],
      message: 'Electron is only imported by the shell (src-main/electron) and the preload.',
    });
  }
  for (const l of forbid.layers) {
    patterns.push({
      group: [`**/${l}/**`, `**/${l}`],
      message: `No imports from ${l}: move what is shared to src-shared.`,
    });
  }
  return { 'no-restricted-imports': ['error', { patterns }] };
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
      layers: ['src-main', 'src-renderer', 'src-worker', 'src-preload'],
    }),
  },
  {
    files: ['src-worker/**/*.ts'],
    rules: layer({ electron: true, layers: ['src-main', 'src-renderer', 'src-preload'] }),
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: layer({ electron: true, layers: ['src-renderer', 'src-worker', 'src-preload'] }),
  },
  {
    files: ['src-main/electron/**/*.ts'],
    rules: layer({ layers: ['src-renderer', 'src-worker', 'src-preload'] }),
  },
  {
    files: ['src-preload/**/*.ts'],
    rules: layer({ layers: ['src-main', 'src-renderer', 'src-worker'] }),
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
