import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../../src/observe/server.js';
import { Registry } from '../../../src/observe/metrics.js';

describe('startMetricsServer', () => {
  it('a port in use is refused with a message that names the metrics port and what to do', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await expect(startMetricsServer(new Registry(), port, () => ({ ok: true, detail: '' }))).rejects.toThrow(
        `--metrics-port ${port}: the metrics port 127.0.0.1:${port} is in use (another weblog worker on this host?); give each worker its own --metrics-port, 0 for any free port, or --no-metrics`,
      );
    } finally {
      taken.close();
    }
  });
});
