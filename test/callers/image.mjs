// The local busybox image, built without a registry from Debian's busybox-static:
//   - rootfs.tar: the root filesystem (one layer), for `podman import`
//   - busybox-oci.tar: an OCI image layout archive (index.json, oci-layout, blobs/sha256/...),
//     for `ctr images import`
// Deterministic: sorted names, mtime 0, uid/gid 0, so the same busybox gives the same digests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';
export const IMAGE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

function tar(cwd, out, paths) {
  const r = spawnSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner',
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '-C', cwd, '-cf', out, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -cf ${out}: ${r.stderr || r.error}`);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Build the root filesystem, its layer tar and the OCI archive under `dir`. */
export function buildBusyboxImage(dir, name = 'docker.io/library/busybox:latest') {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'home/user', 'var', 'run', 'data']) {
    mkdirSync(join(rootfs, d), { recursive: true });
  }
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n');
  spawnSync('chmod', ['1777', join(rootfs, 'tmp')]);
  spawnSync('chown', ['1000:1000', join(rootfs, 'home/user')]);

  const layerTar = join(dir, 'rootfs.tar');
  tar(rootfs, layerTar, ['.']);
  const layer = readFileSync(layerTar);
  const layerDigest = sha256(layer);

  const oci = join(dir, 'oci');
  const blobs = join(oci, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (buf) => {
    const d = sha256(buf);
    writeFileSync(join(blobs, d), buf);
    return { digest: `sha256:${d}`, size: buf.length };
  };
  copyFileSync(layerTar, join(blobs, layerDigest));
  const config = Buffer.from(JSON.stringify({
    created: '1970-01-01T00:00:00Z',
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Env: [`PATH=${IMAGE_PATH}`], Cmd: ['sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'tsrun test/callers: busybox-static' }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  }));
  const index = {
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...blob(manifest),
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' },
    }],
  };
  writeFileSync(join(oci, 'index.json'), JSON.stringify(index));
  writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const archive = join(dir, 'busybox-oci.tar');
  tar(oci, `${archive}.part`, ['oci-layout', 'index.json', 'blobs']);
  renameSync(`${archive}.part`, archive);
  return { rootfs, layerTar, archive, name };
}
