/**
 * The render host, except that SIGUSR2 makes it exit with code 9: a host that
 * ends with an exit code rather than a signal.
 */
process.on('SIGUSR2', () => process.exit(9));
await import('../pool-host.ts');
