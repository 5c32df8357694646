// @ts-check
// config-linux.md#sysctl: kernel parameters of the container's namespaces.
import fs from 'node:fs';
import { area } from './lib/kit.mjs';
import { describe } from './lib/runtime.mjs';

const req = area('sysctl');

req(
  {
    id: 'net-sysctl',
    section: 'config-linux.md#sysctl',
    title: 'a network sysctl is set in the container network namespace',
    quote: '"sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container."',
  },
  async (t, k) => {
    const host = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const wanted = host === '1' ? '0' : '1';
    const cfg = k.config({ script: 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl' });
    cfg.linux.sysctl = { 'net.ipv4.ip_forward': wanted, 'net.ipv4.ip_default_ttl': '42' };
    t.equal(await k.mustRun(cfg), `${wanted}\n42\n`, 'both values are set inside');
    t.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), host, 'the host value is unchanged');
  },
);

req(
  {
    id: 'ipc-sysctl',
    section: 'config-linux.md#sysctl',
    title: 'an ipc sysctl is set in the container ipc namespace',
    quote: '"sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container."',
  },
  async (t, k) => {
    const host = fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8').trim();
    const cfg = k.config({ args: ['cat', '/proc/sys/kernel/msgmax'] });
    cfg.linux.sysctl = { 'kernel.msgmax': '12345' };
    t.equal(await k.mustRun(cfg), '12345\n', 'kernel.msgmax inside');
    t.equal(fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8').trim(), host, 'the host value is unchanged');
  },
);

req(
  {
    id: 'slash-notation',
    section: 'config-linux.md#sysctl',
    title: 'a sysctl key may use / as separator (sysctl(8) syntax)',
    quote: '"For more information, see the sysctl(8) man page." (sysctl(8): "the variable name ... the `/` separator is also accepted")',
  },
  async (t, k) => {
    const cfg = k.config({ args: ['cat', '/proc/sys/net/ipv4/ip_default_ttl'] });
    cfg.linux.sysctl = { 'net/ipv4/ip_default_ttl': '43' };
    t.equal(await k.mustRun(cfg), '43\n', 'net/ipv4/ip_default_ttl was applied');
  },
);

req(
  {
    id: 'unknown-sysctl',
    section: 'runtime.md#lifecycle',
    title: 'a sysctl that does not exist is an error',
    quote: '"If the runtime is unable to create the environment specified in the config.json, it MUST generate an error."',
  },
  async (t, k) => {
    const control = k.config({ script: 'true' });
    control.linux.sysctl = { 'net.ipv4.ip_default_ttl': '44' };
    const cfg = k.config({ script: 'echo ran > /results/ran', results: true });
    cfg.linux.sysctl = { 'net.ipv4.no_such_parameter': '1' };
    await k.expectCreateFails(control, cfg, 'sysctl net.ipv4.no_such_parameter');
  },
);
