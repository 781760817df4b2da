#!/bin/sh
# One-shot job of docker-compose.kafka.yml, once the brokers answer: a
# SCRAM-SHA-512 user per principal, and the schema registry's ACLs. It connects
# over the brokers' mutual-TLS listener as the broker (a super user). The
# services' own ACLs come from topology/access.yaml: `npm run topology` as admin.
set -eu
bin=/opt/kafka/bin
connect="--bootstrap-server kafka-1:9092 --command-config /pki/internal-client.properties"
until $bin/kafka-broker-api-versions.sh $connect >/dev/null 2>&1; do sleep 2; done
for entry in "admin:$ADMIN_PASSWORD" "registry:$REGISTRY_PASSWORD" "product:$PRODUCT_PASSWORD" "inventory:$INVENTORY_PASSWORD" "order:$ORDER_PASSWORD"; do
  user="${entry%%:*}"; password="${entry#*:}"
  $bin/kafka-configs.sh $connect --alter --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[password=$password]"
done
# The registry's topics (topology/topics.yaml, registry section): its journal and
# snapshots kept forever, replicated like every other topic, created before it
# first starts so it never makes them with its own 7-day retention.
forever="--config retention.ms=-1 --config retention.bytes=-1 --config cleanup.policy=delete"
$bin/kafka-topics.sh $connect --create --if-not-exists --topic kafkasql-journal --replication-factor 3 --partitions 1 --config min.insync.replicas=2 $forever
$bin/kafka-topics.sh $connect --create --if-not-exists --topic kafkasql-snapshots --replication-factor 3 --partitions 1 --config min.insync.replicas=2 $forever
$bin/kafka-topics.sh $connect --create --if-not-exists --topic registry-events --replication-factor 3 --partitions 1 --config min.insync.replicas=2 --config retention.ms=604800000
# Its ACLs (topology/access.yaml, registry section).
for topic in kafkasql-journal kafkasql-snapshots; do
  $bin/kafka-acls.sh $connect --add --allow-principal User:registry --operation Read --operation Write --topic "$topic"
done
$bin/kafka-acls.sh $connect --add --allow-principal User:registry --operation Write --topic registry-events
$bin/kafka-acls.sh $connect --add --allow-principal User:registry --operation Read --resource-pattern-type prefixed --group apicurio-registry-
echo "principals, registry topics and registry ACLs ready"
