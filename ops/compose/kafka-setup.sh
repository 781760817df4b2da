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
# Confluent's registry: its _schemas topic (created by it, config checked) and its group.
$bin/kafka-acls.sh $connect --add --allow-principal User:registry --operation All --topic _schemas
$bin/kafka-acls.sh $connect --add --allow-principal User:registry --operation Read --group schema-registry
echo "principals and registry ACLs ready"
