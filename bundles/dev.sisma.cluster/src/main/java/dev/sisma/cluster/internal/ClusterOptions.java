package dev.sisma.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.UsageException;

/**
 * How a member finds its cluster: the cluster's name, the addresses of members to join (TCP/IP
 * join; multicast is never used), the port and address this member listens on, the lease a worker
 * holds on a job and the backups each entry of the distributed structures keeps.
 */
record ClusterOptions(String name, List<String> members, int port, String bind, int leaseSeconds, int backups) {
    static final Set<String> OPTIONS = Set.of("--cluster", "--members", "--port", "--bind", "--lease", "--backups");
    static final int DEFAULT_PORT = 5701;
    static final String USAGE = """
              --cluster NAME    the cluster's name; members of other clusters on the same network are refused
              --members LIST    host:port of members to join, comma-separated (default: 127.0.0.1:5701);
                                TCP/IP join only, never multicast
              --port N          the port this member listens on (default 5701; the next free one up to 5801)
              --bind ADDR       the address this member listens on and announces (default 127.0.0.1: loopback only;
                                give a private address to reach other machines, docs/cluster.md)
              --lease S         seconds a worker's claim on a job lasts without a heartbeat; after that the job
                                is queued again for another worker (default 30; heartbeats every S/3)
              --backups N       copies of each queued job and result on other members (default 1)\
            """;

    static ClusterOptions from(Args a) {
        String name = a.required("--cluster");
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new UsageException("--cluster: a name of 1..64 letters, digits, '.', '_' or '-', got '" + name + "'");
        }
        int port = a.getInt("--port", DEFAULT_PORT);
        if (port < 1 || port > 65535) {
            throw new UsageException("--port must be 1..65535, got " + port);
        }
        List<String> members = new ArrayList<>();
        for (String m : a.get("--members", "127.0.0.1:" + DEFAULT_PORT).split(",")) {
            String t = m.strip();
            if (t.isEmpty()) {
                continue;
            }
            if (!t.matches("[^:\\s]+(:\\d{1,5})?") && !t.matches("\\[[0-9a-fA-F:.]+](:\\d{1,5})?")) {
                throw new UsageException("--members: '" + t + "' is not host or host:port");
            }
            members.add(t);
        }
        if (members.isEmpty()) {
            throw new UsageException("--members: no address given");
        }
        int lease = a.getInt("--lease", 30);
        if (lease < 3 || lease > 86_400) {
            throw new UsageException("--lease must be 3..86400 seconds, got " + lease);
        }
        int backups = a.getInt("--backups", 1);
        if (backups < 0 || backups > 6) {
            throw new UsageException("--backups must be 0..6, got " + backups);
        }
        return new ClusterOptions(name, List.copyOf(members), port, a.get("--bind", "127.0.0.1"), lease, backups);
    }
}
