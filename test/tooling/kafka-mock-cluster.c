/*
 * A Kafka cluster for integration tests, on librdkafka's mock cluster (wire protocol over TCP on
 * 127.0.0.1, ephemeral ports).
 *
 * Usage: kafka-mock-cluster [--brokers N] [--topic name:partitions:replication ...]
 *
 * Prints "BOOTSTRAP host:port,..." on stdout, then answers line commands on stdin with one line,
 * "OK <command>" or "ERR <message>":
 *   create-topic <name> <partitions> <replication>
 *   set-leader <topic> <partition> <broker-id>
 *   broker-down <id> | broker-up <id> | all-down | all-up
 * Exits on stdin EOF, SIGTERM or SIGINT (and SIGTERMs itself when its parent dies).
 *
 * Topics are created here because the mock has no CreateTopics API (kafkajs admin.createTopics
 * fails against it). Create them before any client names them: the mock auto-creates an unknown
 * topic with 4 partitions on the first Metadata request for it, and kafkajs' allowAutoTopicCreation
 * cannot prevent that (it speaks Metadata v2 to the mock, which has no such flag). create-topic
 * then answers "ERR Broker: Topic already exists".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_LINE 4096

static rd_kafka_mock_cluster_t *mcluster;
static int broker_cnt = 3;

static int parse_int(const char *s, long min, long max, int *out) {
        char *end;
        long v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = (int)v;
        return 0;
}

static const char *create_topic(const char *name, int partitions, int replication) {
        rd_kafka_resp_err_t err;

        if (!*name)
                return "empty topic name";
        if (partitions < 1)
                return "partitions must be >= 1";
        if (replication < 1 || replication > broker_cnt)
                return "replication must be between 1 and the broker count";
        err = rd_kafka_mock_topic_create(mcluster, name, partitions, replication);
        return err ? rd_kafka_err2str(err) : NULL;
}

static const char *check_broker(int id) {
        return (id < 1 || id > broker_cnt) ? "unknown broker id" : NULL;
}

/* Runs one command line; returns NULL on success or an error message. */
static const char *run_command(char *line) {
        char *save = NULL;
        char *cmd  = strtok_r(line, " \t", &save);
        char *args[4];
        int nargs = 0, a, b;
        const char *msg;
        rd_kafka_resp_err_t err;

        if (!cmd)
                return "empty command";
        while (nargs < 4 && (args[nargs] = strtok_r(NULL, " \t", &save)))
                nargs++;

        if (!strcmp(cmd, "create-topic")) {
                if (nargs != 3 || parse_int(args[1], 1, INT_MAX, &a) ||
                    parse_int(args[2], 1, INT_MAX, &b))
                        return "usage: create-topic <name> <partitions> <replication>";
                return create_topic(args[0], a, b);
        }
        if (!strcmp(cmd, "set-leader")) {
                if (nargs != 3 || parse_int(args[1], 0, INT_MAX, &a) ||
                    parse_int(args[2], -1, INT_MAX, &b))
                        return "usage: set-leader <topic> <partition> <broker-id|-1>";
                if (b != -1 && (msg = check_broker(b)))
                        return msg;
                err = rd_kafka_mock_partition_set_leader(mcluster, args[0], a, b);
                return err ? rd_kafka_err2str(err) : NULL;
        }
        if (!strcmp(cmd, "broker-down") || !strcmp(cmd, "broker-up")) {
                if (nargs != 1 || parse_int(args[0], 1, INT_MAX, &a))
                        return "usage: broker-down|broker-up <id>";
                if ((msg = check_broker(a)))
                        return msg;
                err = cmd[7] == 'd' ? rd_kafka_mock_broker_set_down(mcluster, a)
                                    : rd_kafka_mock_broker_set_up(mcluster, a);
                return err ? rd_kafka_err2str(err) : NULL;
        }
        if (!strcmp(cmd, "all-down") || !strcmp(cmd, "all-up")) {
                if (nargs != 0)
                        return "usage: all-down|all-up";
                for (a = 1; a <= broker_cnt; a++) {
                        err = cmd[4] == 'd' ? rd_kafka_mock_broker_set_down(mcluster, a)
                                            : rd_kafka_mock_broker_set_up(mcluster, a);
                        if (err)
                                return rd_kafka_err2str(err);
                }
                return NULL;
        }
        return "unknown command";
}

static void handle_line(char *line) {
        char echo[MAX_LINE];
        const char *err;
        size_t len = strlen(line);

        if (len && line[len - 1] == '\r')
                line[--len] = '\0';
        snprintf(echo, sizeof(echo), "%s", line);
        err = run_command(line);
        if (err)
                printf("ERR %s\n", err);
        else
                printf("OK %s\n", echo);
        fflush(stdout);
}

static void usage(const char *argv0) {
        fprintf(stderr,
                "usage: %s [--brokers N] [--topic name:partitions:replication ...]\n",
                argv0);
        exit(2);
}

int main(int argc, char **argv) {
        char errstr[512];
        char buf[MAX_LINE];
        size_t used = 0;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        sigset_t sigs;
        int sfd, i;

        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
                        if (parse_int(argv[++i], 1, 100, &broker_cnt))
                                usage(argv[0]);
                } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
                        i++; /* parsed once the cluster exists */
                } else {
                        usage(argv[0]);
                }
        }

        /* Block the signals before librdkafka starts its threads, so they all inherit the
         * mask and the signals are only ever read from the signalfd below. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigprocmask(SIG_BLOCK, &sigs, NULL);
        sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
        if (sfd == -1) {
                perror("signalfd");
                return 1;
        }
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
                return 1;

        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        mcluster = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mcluster) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                return 1;
        }

        for (i = 1; i < argc; i++) {
                char *spec, *p_part, *p_repl;
                int partitions, replication;
                const char *err;

                if (strcmp(argv[i], "--topic"))
                        continue;
                spec   = argv[++i];
                p_repl = strrchr(spec, ':');
                if (!p_repl)
                        usage(argv[0]);
                *p_repl++ = '\0';
                p_part    = strrchr(spec, ':');
                if (!p_part)
                        usage(argv[0]);
                *p_part++ = '\0';
                if (parse_int(p_part, 1, INT_MAX, &partitions) ||
                    parse_int(p_repl, 1, INT_MAX, &replication))
                        usage(argv[0]);
                if ((err = create_topic(spec, partitions, replication))) {
                        fprintf(stderr, "topic %s: %s\n", spec, err);
                        return 1;
                }
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        for (;;) {
                struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                        {.fd = sfd, .events = POLLIN}};
                ssize_t n;
                char *nl;

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("poll");
                        break;
                }
                if (fds[1].revents)
                        break; /* SIGTERM or SIGINT */
                if (!fds[0].revents)
                        continue;

                n = read(STDIN_FILENO, buf + used, sizeof(buf) - 1 - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (used) {
                                buf[used] = '\0';
                                handle_line(buf);
                        }
                        break; /* EOF: the parent is gone or done */
                }
                used += (size_t)n;
                buf[used] = '\0';
                while ((nl = memchr(buf, '\n', used))) {
                        size_t len = (size_t)(nl - buf) + 1;
                        *nl        = '\0';
                        handle_line(buf);
                        memmove(buf, buf + len, used - len);
                        used -= len;
                }
                if (used == sizeof(buf) - 1) {
                        printf("ERR line too long\n");
                        fflush(stdout);
                        used = 0;
                }
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        close(sfd);
        return 0;
}
