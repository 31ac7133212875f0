package dev.sisma.autoencoder.internal;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

import dev.sisma.api.cli.InputException;
import dev.sisma.engine.Shape;
import dev.sisma.engine.TensorData;
import dev.sisma.engine.io.SafeTensorsException;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.TensorInfo;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.Parameter;

/** Loading a module's weights from safetensors, every problem an {@link InputException} naming the file and tensor. */
final class Weights {
    private Weights() {
    }

    /** Opens a safetensors file: a missing, unreadable, truncated or malformed one is an InputException. */
    static SafeTensorsFile open(Path file) {
        try {
            return SafeTensorsFile.open(file);
        } catch (SafeTensorsException e) {
            throw new InputException(e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new InputException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new InputException(file + ": permission denied");
        } catch (IOException e) {
            throw new InputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The shape of tensor {@code name}; missing is an InputException saying what the file should be. */
    static long[] shape(SafeTensorsFile f, String name, String what) {
        return f.find(name).map(TensorInfo::shape).orElseThrow(() -> new InputException(
                f.path() + ": tensor " + name + ": missing (" + what + ")"));
    }

    /**
     * Loads every parameter of {@code m} from the tensors named {@code prefix} + its name (values
     * widened to F32 and copied, so {@code f} may be closed after). {@code fileNames} gives, for a
     * parameter name, the names it may have, in order of preference (older exports name some tensors
     * differently). Everything is checked first: a parameter with no tensor, a shape that differs (a
     * linear weight [o, i] may be stored as a 1x1 convolution [o, i, 1, 1]) or a tensor under the
     * prefix that no parameter takes.
     */
    static void load(Module m, SafeTensorsFile f, String prefix, Function<String, List<String>> fileNames, String what) {
        Map<String, Parameter> params = m.namedParameters();
        Map<String, String> source = new LinkedHashMap<>();
        Map<String, String> taken = new HashMap<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            List<String> candidates = fileNames.apply(e.getKey()).stream().map(n -> prefix + n).toList();
            String name = candidates.stream().filter(f::contains).findFirst().orElseThrow(() -> new InputException(
                    f.path() + ": tensor " + candidates.get(0) + ": missing (expected shape " + e.getValue().value().shape()
                            + " for " + what + ")"));
            long[] found = f.info(name).shape();
            Shape want = e.getValue().value().shape();
            if (!sameShape(found, want)) {
                throw new InputException(f.path() + ": tensor " + name + ": expected shape " + want + ", found "
                        + Arrays.toString(found) + " (" + what + ")");
            }
            source.put(e.getKey(), name);
            taken.put(name, e.getKey());
        }
        TreeSet<String> extra = new TreeSet<>();
        for (String n : f.names()) {
            if (n.startsWith(prefix) && !taken.containsKey(n)) {
                extra.add(n);
            }
        }
        if (!extra.isEmpty()) {
            throw new InputException(f.path() + ": tensor " + extra.first() + ": not a parameter of " + what
                    + (extra.size() > 1 ? " (and " + (extra.size() - 1) + " more)" : ""));
        }
        Map<String, TensorData> state = new LinkedHashMap<>();
        source.forEach((p, n) -> state.put(p, TensorData.of(f.readFloats(n), params.get(p).value().shape().dims())));
        m.loadStateDict(state, true, false);
    }

    /** Equal, or {@code want} followed by trailing ones (a 1x1 convolution's weight for a linear one). */
    private static boolean sameShape(long[] found, Shape want) {
        if (found.length < want.rank()) {
            return false;
        }
        for (int i = 0; i < found.length; i++) {
            if (found[i] != (i < want.rank() ? want.dim(i) : 1)) {
                return false;
            }
        }
        return true;
    }
}
