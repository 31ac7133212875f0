package dev.sisma.server.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.MaskFiles;

/**
 * Jobs on disk, one folder each under {@code jobs/}: {@code job.json}, the mask as a class-index
 * PNG and the samples. Every file is written to a temporary name and renamed into place, so a
 * container killed at any moment leaves each job either as it was or as it became.
 */
final class JobStore {
    private final Path root;

    JobStore(Path stateDir) throws IOException {
        this.root = stateDir.resolve("jobs");
        Files.createDirectories(root);
    }

    Path dir(String id) {
        return root.resolve(id);
    }

    Path sample(String id, int index) {
        return dir(id).resolve("sample-" + index + ".png");
    }

    /** Writes the mask first and the job file last: a folder without job.json is an unfinished submit. */
    void create(Job job, Mask mask) throws IOException {
        MaskFiles.writeIndex(mask, dir(job.id).resolve("mask.png"));
        save(job);
    }

    void save(Job job) throws IOException {
        byte[] json = Json.write(job.toFile()).getBytes(StandardCharsets.UTF_8);
        ImageFiles.writeAtomically(dir(job.id).resolve("job.json"), out -> out.write(json));
    }

    Mask mask(Job job) {
        return MaskFiles.readIndex(dir(job.id).resolve("mask.png"));
    }

    /** Every readable job, in submit order; unreadable folders (an interrupted submit) are removed. */
    List<Job> loadAll() throws IOException {
        List<Job> jobs = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : dirs.toList()) {
                Path f = d.resolve("job.json");
                try {
                    jobs.add(Job.fromFile((Map<?, ?>) Json.parse(Files.readString(f, StandardCharsets.UTF_8))));
                } catch (IOException | RuntimeException e) {
                    delete(d.getFileName().toString());
                }
            }
        }
        jobs.sort(Comparator.comparingLong(j -> j.seq));
        return jobs;
    }

    void delete(String id) {
        Path d = dir(id);
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(d)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Left for the next start to clean.
        }
    }
}
