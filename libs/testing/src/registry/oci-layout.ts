import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface TestImage {
  /** The config's `created`; `null` writes a config without one (reproducible builds do). */
  created?: string | null;
  labels?: Record<string, string>;
  /** More than one platform makes an OCI index (push it with `--all`). */
  platforms?: { os: string; architecture: string }[];
  /** Makes the image's bytes (and so its digest) unique, e.g. the tag it is pushed as. */
  salt?: string;
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Writes a minimal OCI image layout (one tiny layer, a config, a manifest per platform, an index)
 * that `skopeo copy oci:<dir>:<ref> docker://...` pushes like any image built by a real tool.
 */
export async function writeOciLayout(dir: string, ref: string, image: TestImage = {}): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (content: Buffer | string) => {
    const digest = sha(content);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), content);
    return { digest, size: Buffer.byteLength(content) };
  };
  const platforms = image.platforms ?? [{ os: 'linux', architecture: 'amd64' }];
  const manifests = [];
  for (const platform of platforms) {
    // A tar of one file named after the salt: two images never share a layer digest by accident.
    const tar = tarOf(`capstan-${image.salt ?? ref}-${platform.architecture}.txt`, `${image.salt ?? ref}\n`);
    const layer = await put(gzipSync(tar));
    const created = image.created === undefined ? new Date().toISOString() : image.created;
    const config = await put(
      JSON.stringify({
        ...(created === null ? {} : { created }),
        architecture: platform.architecture,
        os: platform.os,
        config: { Labels: { ...(image.labels ?? {}), 'dev.capstan.test.salt': image.salt ?? ref } },
        rootfs: { type: 'layers', diff_ids: [sha(tar)] },
      }),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    const m = await put(manifest);
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform });
  }
  let top = manifests[0];
  if (manifests.length > 1) {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests,
    });
    const i = await put(index);
    top = {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      ...i,
      platform: { os: '', architecture: '' },
    };
  }
  if (!top) throw new Error('no platform');
  const { platform: _p, ...entry } = top;
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...entry, annotations: { 'org.opencontainers.image.ref.name': ref } }],
    }),
  );
}

/** A POSIX ustar archive holding one regular file. */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 99), 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, pad, Buffer.alloc(1024)]);
}
