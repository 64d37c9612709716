// Command-line parsing of the demo composer: defaults, durations, what each profile implies, and one-line
// errors that name the flag.
import { describe, expect, it } from 'vitest';
import { FLAGS, HELP_TEXT, parseDuration, parseOptions, UsageError, type DemoOptions } from '../../demo/options.ts';

function opts(argv: string[]): DemoOptions {
  const r = parseOptions(argv);
  if (r.help) throw new Error('unexpected help');
  return r.options;
}

describe('demo composer options', () => {
  it('parses durations written 500ms, 15s, 2m, 1h, or a plain number of seconds', () => {
    expect([parseDuration('500ms'), parseDuration('15s'), parseDuration('2m'), parseDuration('1h'), parseDuration('3'), parseDuration('0.1')]).toEqual([
      500, 15_000, 120_000, 3_600_000, 3000, 100,
    ]);
    for (const bad of ['', 'ms', '5x', '-1s', '1 s s']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('has the documented defaults', () => {
    expect(opts([])).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      servers: 3,
      configPath: undefined,
      apiShape: 'code',
      authToken: undefined,
      readonlyToken: undefined,
      rateLimit: 0,
      profile: 'full',
      noEvents: false,
      keepaliveMs: 15_000,
      eventBuffer: 1000,
      eventRetryMs: 3000,
      restartBackoffMs: 500,
      restartBackoffMaxMs: 30_000,
      autoRestart: true,
      dnsRebindingProtection: false,
      testControl: false,
      composerName: 'demo-composer',
      exitOnStdinClose: false,
      logLevel: 'info',
      toolTimeoutMs: 60_000,
    });
  });

  it('profile released turns off events and auto-restart and turns on DNS-rebinding protection; rest turns off events', () => {
    expect(opts(['--profile', 'released'])).toMatchObject({ noEvents: true, autoRestart: false, dnsRebindingProtection: true });
    expect(opts(['--profile', 'rest'])).toMatchObject({ noEvents: true, autoRestart: true, dnsRebindingProtection: false });
    expect(opts(['--profile', 'released', '--dns-rebinding', 'off']).dnsRebindingProtection).toBe(false);
    expect(opts(['--no-auto-restart']).autoRestart).toBe(false);
  });

  it('rejects bad input with a one-line message naming the flag', () => {
    const cases: [string[], string][] = [
      [['--port', 'abc'], '--port'],
      [['--port', '70000'], '--port'],
      [['--api-shape', 'json'], '--api-shape'],
      [['--profile', 'beta'], '--profile'],
      [['--keepalive-interval', 'soon'], '--keepalive-interval'],
      [['--event-buffer', '0'], '--event-buffer'],
      [['--frobnicate'], '--frobnicate'],
      [['--auth-token', 'x', '--readonly-token', 'x'], '--readonly-token'],
    ];
    for (const [argv, flag] of cases) {
      let error: unknown;
      try {
        parseOptions(argv);
      } catch (err) {
        error = err;
      }
      expect(error, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(flag);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('--help lists every flag', () => {
    expect(parseOptions(['--help'])).toEqual({ help: true });
    for (const name of Object.keys(FLAGS)) expect(HELP_TEXT).toContain(`--${name}`);
  });
});
