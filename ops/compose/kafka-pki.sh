#!/bin/sh
# One-shot job of docker-compose.kafka.yml: a private CA and one broker
# certificate (CN=broker, valid for every broker's host name and localhost),
# made once into the pki volume. The CA certificate is also copied to
# ./.local/compose-pki/ca.pem for clients on the host (KAFKA_SSL_CA_FILE).
set -eu
cd /pki
if [ ! -f broker.p12 ]; then
  pw="$STORE_PASSWORD"
  keytool -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=commerce-core compose CA" \
    -ext bc:c -ext KU=keyCertSign,cRLSign -keystore ca.p12 -storetype PKCS12 -storepass "$pw"
  keytool -exportcert -rfc -alias ca -file ca.pem -keystore ca.p12 -storetype PKCS12 -storepass "$pw"
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 825 -dname "CN=broker" \
    -keystore broker.p12 -storetype PKCS12 -storepass "$pw"
  keytool -certreq -alias broker -file broker.csr -keystore broker.p12 -storetype PKCS12 -storepass "$pw"
  keytool -gencert -alias ca -infile broker.csr -outfile broker.crt -rfc -validity 825 \
    -ext SAN=dns:kafka-1,dns:kafka-2,dns:kafka-3,dns:localhost,ip:127.0.0.1 \
    -ext KU=digitalSignature,keyEncipherment -ext EKU=serverAuth,clientAuth \
    -keystore ca.p12 -storetype PKCS12 -storepass "$pw"
  keytool -importcert -noprompt -alias ca -file ca.pem -keystore broker.p12 -storetype PKCS12 -storepass "$pw"
  keytool -importcert -noprompt -alias broker -file broker.crt -keystore broker.p12 -storetype PKCS12 -storepass "$pw"
  keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass "$pw"
  # The broker's own client settings for its mutual-TLS listener (kafka-setup uses them).
  cat > internal-client.properties <<PROPS
security.protocol=SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=/pki/broker.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.truststore.type=PKCS12
ssl.truststore.location=/pki/truststore.p12
ssl.truststore.password=$pw
PROPS
  rm -f broker.csr ca.p12
  chown -R 1000:1000 /pki
  chmod 600 /pki/*
fi
# The CA certificate is public: readable by the host user whoever owns it.
cp ca.pem /export/ca.pem && chmod 644 /export/ca.pem
