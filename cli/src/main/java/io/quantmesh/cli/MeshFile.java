package io.quantmesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.io.Durable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code <store>/mesh.json}: where a running {@code mesh up} listens, so {@code submit}, {@code jobs} and
 * {@code serve} pointed at the same store find it without flags.
 */
record MeshFile(String bootstrapServers, String topicPrefix, Map<String, Integer> grpcPorts, long pid) {
    static final String NAME = "mesh.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path path(Path store) {
        return store.resolve(NAME);
    }

    void write(Path store) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("bootstrap_servers", bootstrapServers);
        n.put("topic_prefix", topicPrefix);
        n.put("store", store.toAbsolutePath().toString());
        ObjectNode g = n.putObject("grpc");
        grpcPorts.forEach(g::put);
        n.put("pid", pid);
        Durable.writeAtomically(path(store), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The file of a mesh that ran on {@code store}, or null if there is none. */
    static MeshFile read(Path store) throws IOException {
        Path p = path(store);
        if (!Files.isRegularFile(p)) return null;
        JsonNode n = JSON.readTree(p.toFile());
        Map<String, Integer> ports = new LinkedHashMap<>();
        n.path("grpc").properties().forEach(e -> ports.put(e.getKey(), e.getValue().asInt()));
        String bootstrap = n.path("bootstrap_servers").asText("");
        if (bootstrap.isEmpty()) throw new IOException(p + " names no bootstrap_servers");
        return new MeshFile(bootstrap, n.path("topic_prefix").asText("quantmesh."), ports, n.path("pid").asLong());
    }

    /** The Kafka port of {@code 127.0.0.1:PORT}, or 0. */
    int kafkaPort() {
        int colon = bootstrapServers.lastIndexOf(':');
        try {
            return colon < 0 ? 0 : Integer.parseInt(bootstrapServers.substring(colon + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
