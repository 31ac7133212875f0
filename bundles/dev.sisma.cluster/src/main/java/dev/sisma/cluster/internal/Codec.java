package dev.sisma.cluster.internal;

import java.awt.image.BufferedImage;
import java.awt.image.RenderedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

/**
 * What travels through the cluster, as plain strings and bytes (Hazelcast then needs none of
 * sisma's classes to store them): a batch's options as {@code key=value} lines, masks and samples
 * as PNG bytes, and a job's result as one record: the worker, the seconds it took, and either the
 * samples with their seeds or the one-line reason it failed.
 */
final class Codec {
    private Codec() {
    }

    /** A job's outcome as the coordinator reads it. */
    record Result(String worker, double seconds, List<Long> seeds, List<byte[]> pngs, String error) {
        boolean failed() {
            return error != null;
        }
    }

    static String options(Map<String, String> options) {
        StringBuilder sb = new StringBuilder();
        options.forEach((k, v) -> {
            if (v != null) {
                sb.append(k).append('=').append(v).append('\n');
            }
        });
        return sb.toString();
    }

    static Map<String, String> options(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }

    static byte[] png(RenderedImage image) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BufferedImage image(byte[] png) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            if (img == null) {
                throw new IOException("not a PNG");
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] done(String worker, double seconds, List<Long> seeds, List<byte[]> pngs) {
        return write(worker, seconds, seeds, pngs, null);
    }

    static byte[] failed(String worker, double seconds, String error) {
        return write(worker, seconds, List.of(), List.of(), error);
    }

    private static byte[] write(String worker, double seconds, List<Long> seeds, List<byte[]> pngs, String error) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(worker);
            out.writeDouble(seconds);
            out.writeBoolean(error != null);
            if (error != null) {
                out.writeUTF(error);
            } else {
                out.writeInt(pngs.size());
                for (int i = 0; i < pngs.size(); i++) {
                    out.writeLong(seeds.get(i));
                    out.writeInt(pngs.get(i).length);
                    out.write(pngs.get(i));
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Result result(byte[] blob) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(blob))) {
            String worker = in.readUTF();
            double seconds = in.readDouble();
            if (in.readBoolean()) {
                return new Result(worker, seconds, List.of(), List.of(), in.readUTF());
            }
            int n = in.readInt();
            List<Long> seeds = new ArrayList<>();
            List<byte[]> pngs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                seeds.add(in.readLong());
                pngs.add(in.readNBytes(in.readInt()));
            }
            return new Result(worker, seconds, seeds, pngs, null);
        } catch (IOException e) {
            throw new UncheckedIOException("a job result that cannot be read: " + e.getMessage(), e);
        }
    }
}
