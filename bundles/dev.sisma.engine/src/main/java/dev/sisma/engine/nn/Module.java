package dev.sisma.engine.nn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.TensorData;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * A PyTorch-style module: named parameters and named child modules, registered in the
 * constructor in definition order, giving dotted names such as
 * {@code blocks.3.self_mamba.in_proj.weight}. A module owns its parameters; {@link #close()}
 * frees them all.
 */
public abstract class Module implements AutoCloseable {
    private static final ValueLayout.OfShort HALF_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    /** Registers a parameter under {@code name} (no dots) with initial value {@code init}. */
    protected final Parameter parameter(String name, Tensor init) {
        checkName(name);
        Parameter p = new Parameter(init);
        params.put(name, p);
        return p;
    }

    /** Registers a child module under {@code name}; returns it. */
    protected final <M extends Module> M module(String name, M child) {
        checkName(name);
        children.put(name, child);
        return child;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("bad module/parameter name '" + name + "'");
        if (params.containsKey(name) || children.containsKey(name)) throw new IllegalArgumentException("name '" + name + "' registered twice");
    }

    /** Every parameter of this module and its descendants, by dotted name: own parameters first, then each child's, in registration order (PyTorch's order). */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    public final List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    /** Direct children by name. */
    public final Map<String, Module> children() { return Collections.unmodifiableMap(children); }

    /** Total number of parameter values. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) n += p.value().size();
        return n;
    }

    /** Frees every accumulated gradient. */
    public final void zeroGrad() {
        for (Parameter p : namedParameters().values()) p.value().zeroGrad();
    }

    /**
     * Loads values by dotted name. Shapes must match exactly. With {@code strict}, a missing or
     * unexpected name is an error listing the names (nothing is loaded then). Where
     * {@code zeroCopy} is set, the backend may alias the data ({@link Backend#map}, e.g. a
     * memory-mapped file on the CPU backend): the caller keeps it valid while the module lives.
     */
    public final void loadStateDict(Map<String, TensorData> state, boolean strict, boolean zeroCopy) {
        Map<String, Parameter> mine = namedParameters();
        if (strict) {
            Set<String> missing = new TreeSet<>(mine.keySet());
            missing.removeAll(state.keySet());
            Set<String> extra = new TreeSet<>(state.keySet());
            extra.removeAll(mine.keySet());
            if (!missing.isEmpty() || !extra.isEmpty())
                throw new IllegalArgumentException("state dict does not match the model: missing " + missing + ", unexpected " + extra);
        }
        for (Map.Entry<String, Parameter> e : mine.entrySet()) {
            TensorData d = state.get(e.getKey());
            if (d == null) continue;
            Tensor cur = e.getValue().value();
            if (!d.shape().equals(cur.shape()))
                throw new IllegalArgumentException("parameter " + e.getKey() + " has shape " + cur.shape() + ", the state dict gives " + d.shape());
        }
        for (Map.Entry<String, Parameter> e : mine.entrySet()) {
            TensorData d = state.get(e.getKey());
            if (d == null) continue;
            Backend be = e.getValue().value().backend();
            DeviceBuffer buf = zeroCopy ? be.map(d.data()) : be.upload(d.data());
            e.getValue().set(Tensor.wrap(be, buf, d.shape()));
        }
    }

    /**
     * Keeps the weight of every {@link Linear} in this module and its descendants as 16-bit floats
     * ({@code format} F16 or BF16, each value rounded to nearest even) through
     * {@link Backend#uploadHalf}: half the memory on a backend that stores them so (the CPU
     * backend widens them as its GEMM packs them), the rounded values everywhere else. Meant for
     * inference: the GEMM reads such a weight at no extra cost, anything else widens it to float32
     * (see {@code uploadHalf}). Returns how many weights it converted.
     */
    public final int halfLinearWeights(DType format) {
        int n = 0;
        if (this instanceof Linear l) {
            Tensor w = l.weight.value();
            float[] v = w.toArray();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment h = arena.allocate(2L * v.length, 2);
                for (int i = 0; i < v.length; i++) h.setAtIndex(HALF_LE, i, format.toHalf(v[i]));
                l.weight.set(Tensor.wrap(w.backend(), w.backend().uploadHalf(h, format), w.shape()));
            }
            n++;
        }
        for (Module c : children.values()) n += c.halfLinearWeights(format);
        return n;
    }

    /** Every parameter's values copied to the host (heap arrays), by dotted name, in registration order. */
    public final Map<String, TensorData> stateDict() {
        Map<String, TensorData> out = new LinkedHashMap<>();
        namedParameters().forEach((n, p) -> out.put(n, TensorData.of(p.value().toArray(), p.value().shape().dims())));
        return out;
    }

    /** Frees every parameter of this module and its descendants. */
    @Override
    public void close() {
        for (Parameter p : namedParameters().values()) p.close();
    }
}
