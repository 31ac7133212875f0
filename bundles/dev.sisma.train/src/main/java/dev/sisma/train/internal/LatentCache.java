package dev.sisma.train.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Sample;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.model.ImageSpace;

/**
 * Each dataset image encoded once into the autoencoder's latent, on disk, so training epochs (and
 * later runs over the same data) do not run the encoder again. An entry is one file
 * {@code <dir>/<key>/<index>.latent}: the version key in full (the autoencoder's name, latent shape
 * and weights fingerprint, the image size: {@link ImageSpace#cacheKey()}, and the dataset), then the
 * raw latent (before the config's shift and scale) and the mask's classes at image size. A file whose
 * key or sizes do not match, or that is cut short, is encoded again; files are written to a temporary
 * name and renamed into place.
 */
final class LatentCache {
    private static final int MAGIC = 0x534C4331;   // "SLC1"
    /** Images encoded per encoder call. */
    static final int ENCODE_BATCH = 4;

    private final Dataset dataset;
    private final ImageSpace space;
    private final Path dir;
    private final byte[] key;
    private final int size;
    private int latentValues = -1;                  // learned from the first entry
    private long encoded;

    LatentCache(Dataset dataset, ImageSpace space, Path root) {
        this.dataset = dataset;
        this.space = space;
        this.size = space.imageSize();
        String text = space.cacheKey() + " data=" + dataset.description();
        this.key = text.getBytes(StandardCharsets.UTF_8);
        this.dir = root.resolve(hash(text));
        try {
            Files.createDirectories(dir);
            Path about = dir.resolve("key.txt");
            if (!Files.exists(about)) {
                Path tmp = Files.createTempFile(dir, "key", ".tmp");
                Files.writeString(tmp, text + "\n");
                Files.move(tmp, about, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new InputException(dir + ": cannot make the latent cache folder: " + e.getMessage(), e);
        }
    }

    /** The folder of this key's entries. */
    Path dir() {
        return dir;
    }

    /** How many images this cache has run through the encoder. */
    long encoded() {
        return encoded;
    }

    /** One cached sample: the raw latent [C, s, s] (flat) and the mask at image size. */
    record Entry(float[] latent, Mask mask) {
    }

    /** The entries of {@code indices}, encoding (in batches) those not on disk yet. */
    List<Entry> get(int[] indices) {
        Entry[] out = new Entry[indices.length];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < indices.length; i++) {
            out[i] = read(indices[i]);
            if (out[i] == null) {
                missing.add(i);
            }
        }
        for (int from = 0; from < missing.size(); from += ENCODE_BATCH) {
            List<Integer> chunk = missing.subList(from, Math.min(missing.size(), from + ENCODE_BATCH));
            // an index twice in a batch is encoded once
            List<Integer> todo = new ArrayList<>();
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int pos : chunk) {
                if (out[pos] == null && seen.add(indices[pos])) {
                    todo.add(pos);
                }
            }
            Entry[] made = encode(todo.stream().mapToInt(p -> indices[p]).toArray());
            for (int k = 0; k < todo.size(); k++) {
                int idx = indices[todo.get(k)];
                for (int pos = 0; pos < indices.length; pos++) {
                    if (indices[pos] == idx) {
                        out[pos] = made[k];
                    }
                }
            }
        }
        return List.of(out);
    }

    private Entry[] encode(int[] idx) {
        if (idx.length == 0) {
            return new Entry[0];
        }
        int plane = size * size;
        float[] images = new float[idx.length * 3 * plane];
        Mask[] masks = new Mask[idx.length];
        for (int i = 0; i < idx.length; i++) {
            Sample s = dataset.get(idx[i], size);
            System.arraycopy(s.image(), 0, images, i * 3 * plane, 3 * plane);
            masks[i] = s.mask();
        }
        float[] z;
        try (Scope scope = Scope.open()) {
            z = space.encodeRaw(Tensor.of(space.autoencoder().orElseThrow().backend(), images, idx.length, 3, size, size)).toArray();
        }
        encoded += idx.length;
        int per = z.length / idx.length;
        latentValues = per;
        Entry[] out = new Entry[idx.length];
        for (int i = 0; i < idx.length; i++) {
            float[] latent = java.util.Arrays.copyOfRange(z, i * per, (i + 1) * per);
            out[i] = new Entry(latent, masks[i]);
            write(idx[i], out[i]);
        }
        return out;
    }

    private Path file(int index) {
        return dir.resolve(index + ".latent");
    }

    /** The entry on disk, or null when it is missing or does not match (then it is encoded again). */
    Entry read(int index) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file(index));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new InputException(file(index) + ": cannot read the latent cache: " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (b.getInt() != MAGIC) {
                return null;
            }
            byte[] k = new byte[b.getInt()];
            b.get(k);
            if (!java.util.Arrays.equals(k, key)) {
                return null;
            }
            int n = b.getInt(), side = b.getInt();
            if (side != size || (latentValues >= 0 && n != latentValues) || b.remaining() != 4L * n + (long) side * side) {
                return null;
            }
            float[] latent = new float[n];
            b.asFloatBuffer().get(latent);
            b.position(b.position() + 4 * n);
            byte[] classes = new byte[side * side];
            b.get(classes);
            latentValues = n;
            return new Entry(latent, new Mask(side, side, classes));
        } catch (RuntimeException e) {   // cut short or garbled: encode again
            return null;
        }
    }

    private void write(int index, Entry e) {
        byte[] classes = e.mask().copyOfClasses();
        ByteBuffer b = ByteBuffer.allocate(16 + key.length + 4 * e.latent().length + classes.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(key.length).put(key).putInt(e.latent().length).putInt(size);
        b.asFloatBuffer().put(e.latent());
        b.position(b.position() + 4 * e.latent().length);
        b.put(classes);
        Path target = file(index);
        try {
            Path tmp = Files.createTempFile(dir, index + "-", ".tmp");
            try {
                Files.write(tmp, b.array());
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException ex) {
            throw new InputException(target + ": cannot write the latent cache: " + ex.getMessage(), ex);
        }
    }

    private static String hash(String text) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
