// The ACLs topology/access.yaml grants, checked against the topology and
// against what each service declares it writes, without a broker.
import { expect } from 'chai';
import kafkajs from 'kafkajs';
import { inventoryService } from '../../services/inventory/main.ts';
import { orderService } from '../../services/order/main.ts';
import { productService } from '../../services/product/main.ts';
import { createEnvReader } from '../../services/platform/env.ts';
import type { ServiceDefinition } from '../../services/platform/runtime/service.ts';
import { topicsFor } from '../../services/topics.ts';
import { readAccessFile, registryAcls, serviceAcls } from '../../services/platform/topology/access.ts';
import { readTopologyFile } from '../../services/platform/topology/declaration.ts';

const { AclOperationTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

describe('topology/access.yaml: least privilege per principal', () => {
  const access = readAccessFile();
  const acls = serviceAcls(access, readTopologyFile(), 'pre.');
  const allowed = (principal: string, operation: number, topic: string) =>
    acls.some((a) => a.principal === `User:${principal}` && a.resourceType === AclResourceTypes.TOPIC && a.resourceName === topic && a.operation === operation);

  it('lets every service write what it declares it writes', () => {
    const writes = <S>(service: ServiceDefinition<S>) => ({ name: service.name, topics: service.writes(topicsFor('pre.'), service.settings(createEnvReader({}))) });
    for (const service of [writes(productService), writes(inventoryService), writes(orderService)]) {
      for (const topic of service.topics) expect(allowed(service.name, AclOperationTypes.WRITE, topic.name), `${service.name} -> ${topic.name}`).to.equal(true);
    }
  });

  it("keeps each service off the others' jobs", () => {
    expect(allowed('product', AclOperationTypes.WRITE, 'pre.inventory.commands')).to.equal(false);
    expect(allowed('order', AclOperationTypes.READ, 'pre.product.commands')).to.equal(false);
    expect(allowed('inventory', AclOperationTypes.WRITE, 'pre.order.events')).to.equal(false);
    expect(
      acls.every((a) => a.resourcePatternType === ResourcePatternTypes.LITERAL || a.resourceType !== AclResourceTypes.TOPIC),
      'topics are named one by one',
    ).to.equal(true);
  });

  it('gives a service the dead-letter topic of each topic it reads, its own groups and transactional ids', () => {
    expect(allowed('inventory', AclOperationTypes.WRITE, 'pre.product.events.dlq')).to.equal(true);
    expect(allowed('order', AclOperationTypes.WRITE, 'pre.product.details.replies.dlq')).to.equal(false); // replies have no DLQ
    const owned = acls.filter((a) => a.principal === 'User:order' && a.resourcePatternType === ResourcePatternTypes.PREFIXED);
    expect(owned.map((a) => [a.resourceType, a.resourceName])).to.deep.equal([
      [AclResourceTypes.GROUP, 'pre.order-'],
      [AclResourceTypes.TRANSACTIONAL_ID, 'pre.order-'],
    ]);
  });

  it('confines the registry to its own topics and groups', () => {
    const registry = registryAcls(access);
    expect(new Set(registry.map((a) => a.principal))).to.deep.equal(new Set(['User:registry']));
    expect(
      registry
        .filter((a) => a.resourceType === AclResourceTypes.TOPIC)
        .map((a) => a.resourceName)
        .sort(),
    ).to.deep.equal(['kafkasql-journal', 'kafkasql-journal', 'kafkasql-snapshots', 'kafkasql-snapshots', 'registry-events']);
  });
});
