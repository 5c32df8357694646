// @ts-check
// config.md#hostname and #domainname, in the container's UTS namespace.
import fs from 'node:fs';
import os from 'node:os';
import { area } from './lib/kit.mjs';

const req = area('hostname');

req(
  {
    id: 'hostname',
    section: 'config.md#hostname',
    title: 'hostname is the hostname seen inside the container',
    quote: '"hostname (string, OPTIONAL) specifies the container\'s hostname as seen by processes running inside the container."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'hostname; cat /proc/sys/kernel/hostname' });
    cfg.hostname = 'conformance-host-1';
    t.equal(await k.mustRun(cfg), 'conformance-host-1\nconformance-host-1\n', 'hostname(1) and /proc/sys/kernel/hostname');
  },
);

req(
  {
    id: 'domainname',
    section: 'config.md#domainname',
    title: 'domainname is the NIS domain name seen inside the container',
    quote: '"domainname (string, OPTIONAL) specifies the container\'s domainname as seen by processes running inside the container."',
  },
  async (t, k) => {
    const cfg = k.config({ script: 'cat /proc/sys/kernel/domainname' });
    cfg.domainname = 'conformance.example';
    t.equal(await k.mustRun(cfg), 'conformance.example\n', '/proc/sys/kernel/domainname');
  },
);

req(
  {
    id: 'host-unchanged',
    section: 'config.md#hostname',
    title: "the container's hostname and domainname do not change the runtime's",
    quote: '"On Linux, for example, this will change the hostname in the container UTS namespace."',
  },
  async (t, k) => {
    const hostBefore = os.hostname();
    const domainBefore = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const cfg = k.config({ script: 'hostname' });
    cfg.hostname = 'conformance-other';
    cfg.domainname = 'other.example';
    t.equal(await k.mustRun(cfg), 'conformance-other\n', 'the container got its hostname');
    t.equal(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), hostBefore, 'the runtime hostname is unchanged');
    t.equal(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8'), domainBefore, 'the runtime domainname is unchanged');
  },
);
