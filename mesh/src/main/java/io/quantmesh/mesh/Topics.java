package io.quantmesh.mesh;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/** Creates the pipeline's topics that are missing, with their partition counts. Existing topics are left as they are. */
public final class Topics {
    private Topics() {}

    /** Replication factor 1: the one-process mesh has one broker; a cluster's topics come from its operator. */
    public static void ensure(Admin admin, MeshConfig cfg) throws Exception {
        ensure(admin, cfg, (short) 1);
    }

    public static void ensure(Admin admin, MeshConfig cfg, short replicationFactor) throws Exception {
        Set<String> existing = admin.listTopics().names().get();
        List<NewTopic> missing = new ArrayList<>();
        for (Topic t : Topic.values()) {
            if (!existing.contains(cfg.topic(t))) missing.add(new NewTopic(cfg.topic(t), t.partitions(), replicationFactor));
        }
        if (missing.isEmpty()) return;
        try {
            admin.createTopics(missing).all().get();
        } catch (ExecutionException e) {
            // another process created them at the same moment: fine, they exist now
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
        awaitLeaders(admin, missing.stream().map(NewTopic::name).toList());
    }

    /** New partitions get their leader a moment after creation; producing before that only logs retries. */
    private static void awaitLeaders(Admin admin, List<String> names) throws Exception {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline) {
            boolean ready = admin.describeTopics(names).allTopicNames().get().values().stream()
                    .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
            if (ready) return;
            Thread.sleep(100);
        }
    }
}
