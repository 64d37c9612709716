/** Binding a server to a configured address, for both of the sidecar's ports. */
import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from './config/values.ts';

/** Listens on `at`; resolves with the bound address (port 0 gets a real port) or rejects with the bind error. */
export function listenOn(server: Server, at: HostPort): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
