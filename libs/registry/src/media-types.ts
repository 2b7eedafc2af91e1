export const MEDIA = {
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/**
 * All four in every manifest request: distribution 2.8 answers an OCI type without this
 * `Accept` with MANIFEST_UNKNOWN, and rewrites schema2 to schema1 (another digest).
 */
export const MANIFEST_ACCEPT = [
  MEDIA.dockerList,
  MEDIA.dockerManifest,
  MEDIA.ociManifest,
  MEDIA.ociIndex,
].join(', ');

export const INDEX_TYPES: readonly string[] = [MEDIA.dockerList, MEDIA.ociIndex];
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA.dockerManifest, MEDIA.ociManifest];
export const MANIFEST_TYPES: readonly string[] = [
  ...INDEX_TYPES,
  ...IMAGE_MANIFEST_TYPES,
  MEDIA.dockerSchema1,
];
