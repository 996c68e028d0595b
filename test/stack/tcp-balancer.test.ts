import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../stack/processes';
import { startTcpBalancer, type TcpBalancer } from '../../stack/tcp-balancer';

/** A backend that answers each connection's first line with its own name. */
async function echoServer(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((socket) => socket.once('data', (data) => socket.end(`${name}:${data.toString()}`)));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { server, address: `127.0.0.1:${port}` };
}

async function ask(address: string, line: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) }, () => socket.write(line));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.once('error', reject);
  });
}

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close();
});

describe('the TCP balancer in front of a cluster', () => {
  it('takes turns between live backends, and carries the first bytes a client sends', async () => {
    const a = await echoServer('a');
    const b = await echoServer('b');
    opened.push(a.server, b.server);
    const balancer: TcpBalancer = await startTcpBalancer({ backends: [a.address, b.address], port: await freePort() });
    opened.push(balancer);
    const answers = [await ask(balancer.address, 'one'), await ask(balancer.address, 'two'), await ask(balancer.address, 'three')];
    expect(answers.sort()).toEqual(['a:one', 'a:three', 'b:two'].sort());
    expect(balancer.connections()).toEqual({ [a.address]: 2, [b.address]: 1 });
  });

  it('sends every client to the surviving backend when one is down', async () => {
    const live = await echoServer('live');
    opened.push(live.server);
    const dead = `127.0.0.1:${await freePort()}`;
    const balancer = await startTcpBalancer({ backends: [dead, live.address], port: await freePort() });
    opened.push(balancer);
    for (let i = 0; i < 4; i += 1) expect(await ask(balancer.address, `n${i}`)).toBe(`live:n${i}`);
    expect(balancer.connections()).toEqual({ [dead]: 0, [live.address]: 4 });
  });
});
