// `umbra node` configuration: flags over the config file over defaults, strict checking with the
// flag or key named, and --bootstrap as a contact string or a contact file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { resolveNodeConfig } from '../../node/config.ts';
import { formatContact } from '../../node/contact.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-cfg-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const contact = formatContact({ identityKey: new Uint8Array(32).fill(5), host: '127.0.0.1', port: 7701 });

t.test('defaults, and flags over the file', async (t) => {
  const c = resolveNodeConfig({ data: 'x' });
  t.same(c.listen, { host: '127.0.0.1', port: 7700 });
  t.same(c.gateway, { host: '127.0.0.1', port: 7780 });
  t.equal(c.logLevel, 'info');
  t.equal(c.dataDir, path.resolve('x'));
  const file = write('c.json', JSON.stringify({ data: 'd', listen: '[::1]:0', logLevel: 'debug', bootstrap: [contact] }));
  const f = resolveNodeConfig({ config: file, 'log-level': 'warn' });
  t.equal(f.dataDir, path.join(dir, 'd'), 'data is relative to the config file');
  t.same(f.listen, { host: '::1', port: 0 });
  t.equal(f.logLevel, 'warn', 'the flag wins');
  t.equal(f.bootstrap.length, 1);
});

t.test('--bootstrap takes a contact file', async (t) => {
  const c = resolveNodeConfig({ data: 'x', bootstrap: [write('contact', contact + '\n')] });
  t.equal(c.bootstrap[0]?.port, 7701);
});

t.test('bad values are usage errors that name the flag or key', async (t) => {
  const bad: Array<[object, RegExp]> = [
    [{}, /--data/],
    [{ data: 'x', listen: 'nohost' }, /--listen/],
    [{ data: 'x', gateway: '1.2.3.4:99999' }, /--gateway/],
    [{ data: 'x', 'log-level': 'loud' }, /--log-level/],
    [{ data: 'x', bootstrap: ['umbra:abc@1.2.3.4:5'] }, /--bootstrap/],
    [{ data: 'x', bootstrap: [path.join(dir, 'missing')] }, /neither a contact/],
    [{ config: write('u.json', '{"lisen": 1}') }, /unknown key 'lisen'/],
    [{ config: write('j.json', '{oops') }, /not valid JSON/],
    [{ config: write('a.json', '[1]') }, /JSON object/],
    [{ config: write('b.json', '{"bootstrap": "x"}'), data: 'x' }, /array/],
  ];
  for (const [flags, msg] of bad) {
    t.throws(() => resolveNodeConfig(flags), { name: 'CliError', exitCode: 2, message: msg }, JSON.stringify(flags));
  }
});
