export { writeOciLayout, type TestImage } from './oci-layout.js';
export {
  DockerRegistry,
  DOCKER_REGISTRY_BIN,
  type DockerRegistryOptions,
  type NotificationEndpoint,
  type PushOptions,
} from './docker-registry.js';
export { TokenServer } from './token-server.js';
export { PagingRegistry, type PagingRegistryOptions } from './paging-registry.js';
