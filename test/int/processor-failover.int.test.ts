// Crashes and hand-overs of the reservation processor, as separate processes:
// no accepted command is lost, none takes effect twice, nothing is oversold.
import { expect } from 'chai';
import type { Admin } from 'kafkajs';
import type { SentCommand } from '../../services/platform/messaging/command-sender.ts';
import { readEvents } from '../support/events.ts';
import type { ChildService } from '../support/child-service.ts';
import { allAnswered, commandStream, initialStock, useInventoryHarness, verifyOutcomes } from '../support/inventory-stream.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reservation processor under crashes and hand-overs (separate processes)', function () {
  this.timeout(300_000);
  const h = useInventoryHarness('failover');
  const children: ChildService[] = [];
  const startProcessor = (name: string) => {
    const child = h.startInventory(name, { SERVICE_ROLES: 'processor' });
    children.push(child);
    return child;
  };

  it('(c) killed with SIGKILL at random moments during a stream: every command has exactly one outcome, nothing oversold', async () => {
    const sent: SentCommand[] = await h.sender.sendMany(h.env.topics.inventoryCommands, initialStock(40));
    let processor = startProcessor('crash-0');
    const stream = commandStream(1500, 7);
    let kills = 0;
    const streaming = (async () => {
      for (let i = 0; i < stream.length; i += 25) {
        sent.push(...(await h.sender.sendMany(h.env.topics.inventoryCommands, stream.slice(i, i + 25))));
        await sleep(120);
      }
    })();
    const killing = (async () => {
      for (let k = 0; k < 5; k++) {
        await sleep(1500 + Math.random() * 2000);
        await processor.kill('SIGKILL');
        kills++;
        processor = startProcessor(`crash-${k + 1}`);
      }
    })();
    await Promise.all([streaming, killing]);
    expect(kills).to.equal(5);
    const events = await readEvents(h.env.config, h.codec, h.env.topics.inventoryEvents, allAnswered(sent), 120_000);
    verifyOutcomes(sent, events);
  });

  it('(d) two instances share the partitions; when one stops, the other takes over, losing and doubling nothing', async () => {
    const admin: Admin = h.env.admin;
    const groupId = `${h.env.prefix}inventory-processor`;
    // The previous test left one processor running; add a second.
    startProcessor('second');
    const members = async () => (await admin.describeGroups([groupId])).groups[0]!.members.length;
    for (let i = 0; (await members()) < 2 && i < 100; i++) await sleep(200);
    expect(await members()).to.equal(2);

    const sent: SentCommand[] = [];
    const stream = commandStream(600, 11);
    const streaming = (async () => {
      for (let i = 0; i < stream.length; i += 20) {
        sent.push(...(await h.sender.sendMany(h.env.topics.inventoryCommands, stream.slice(i, i + 20))));
        await sleep(100);
      }
    })();
    await sleep(1200);
    const [first] = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    await first!.kill('SIGTERM'); // an orderly stop: it finishes its batch and leaves the group
    await streaming;
    for (let i = 0; (await members()) !== 1 && i < 100; i++) await sleep(200);
    expect(await members()).to.equal(1);

    const events = await readEvents(h.env.config, h.codec, h.env.topics.inventoryEvents, allAnswered(sent), 120_000);
    verifyOutcomes(sent, events);
  });
});
