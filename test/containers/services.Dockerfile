# The services the container smoke test runs next to page-stats, made from Debian packages
# (no registry image can be pulled here): PostgreSQL 15, InfluxDB 1.6, nginx-light with envsubst,
# and librdkafka's mock Kafka cluster (test/tooling/kafka-mock-cluster.c) as the Kafka broker.
# test/containers/build-services-image.sh builds it on the Debian image of deploy/docker/build-local.sh.
ARG DEBIAN_IMAGE

FROM ${DEBIAN_IMAGE} AS kafka-mock
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends gcc libc6-dev librdkafka-dev pkg-config
COPY kafka-mock-cluster.c /src/
RUN gcc -std=c11 -O2 -Wall -Wextra -Werror -o /kafka-mock-cluster /src/kafka-mock-cluster.c $(pkg-config --cflags --libs rdkafka)

FROM ${DEBIAN_IMAGE}
# No service may start during the install, and no PostgreSQL cluster is created: each container
# makes its own on a tmpfs.
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/page-stats.conf \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends postgresql-15 influxdb nginx-light gettext-base librdkafka1 \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
COPY --from=kafka-mock /kafka-mock-cluster /usr/local/bin/kafka-mock-cluster
