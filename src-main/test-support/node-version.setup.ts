import { assertNodeVersion } from '../node-version.ts';

assertNodeVersion('the test suite');
