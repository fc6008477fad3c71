import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../command.js';
import { parseSimpleArgs } from './simple.js';

const usage = 'usage: wirescope list nodes [--server host:port|unix:///path] [-o text|json] [--tls ...]';

test('a command flag and its short form ("--follow", "-f") are one flag under its long name', () => {
  const opts = parseSimpleArgs(['-f', '--last', '3', '-o', 'json'], usage, ['--last'], ['--follow', '-f']);
  assert.deepEqual(
    [...opts.values],
    [
      ['--follow', true],
      ['--last', '3'],
    ],
  );
  assert.equal(opts.json, true);
});

test('errors name the command they come from, and --help wins over a repeated flag', () => {
  const refused: [string[], string][] = [
    [['--bogus'], 'unknown flag --bogus (see wirescope list nodes --help)'],
    [['stray'], 'unexpected argument "stray": list nodes takes only flags (see --help)'],
    [['-ojson'], 'unknown flag -ojson (see wirescope list nodes --help)'],
    [['--server'], '--server needs a value'],
    [['--tls=yes'], '--tls takes no value'],
    [['-o', 'yaml'], '-o "yaml" is unknown; accepted: text, json'],
    [['--server', 'a:1', '--server', 'b:2', '-h'], usage],
  ];
  for (const [args, message] of refused)
    assert.throws(
      () => parseSimpleArgs(args, usage),
      (err: unknown) => err instanceof UsageError && err.message === message,
      args.join(' '),
    );
});
