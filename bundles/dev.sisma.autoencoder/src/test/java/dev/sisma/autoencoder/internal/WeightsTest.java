package dev.sisma.autoencoder.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.SafeTensorsWriter;
import dev.sisma.engine.io.TensorInfo;
import dev.sisma.engine.nn.Parameter;

/** Weights files: float16 and bfloat16 widened exactly, older diffusers names, and every bad file refused in one line. */
class WeightsTest {
    static CpuBackend be;
    static AutoencoderRegistry registry;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
        registry = new AutoencoderRegistry();
        registry.addProvider(new Taef2Provider());
        registry.addProvider(new SdVaeProvider());
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    /** Every parameter equals the file's 16-bit value widened to float32 (bit for bit). */
    static void assertWidenedExactly(Map<String, Parameter> params, SafeTensorsFile f, String prefix, DType dtype) {
        for (var e : params.entrySet()) {
            String name = prefix + e.getKey();
            assertEquals(dtype, f.info(name).dtype(), name);
            var seg = f.segment(name);
            float[] loaded = e.getValue().value().toArray();
            for (int i = 0; i < loaded.length; i++) {
                short bits = seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 2L * i);
                float want = dtype == DType.F16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat(bits << 16);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(loaded[i]), name + "[" + i + "]");
            }
        }
    }

    @Test
    void shippedTaef2WeightsAreFloat16AndWidenExactly() throws Exception {
        Path enc = Path.of(Taef2Provider.class.getResource(Taef2Provider.RESOURCES + "taef2_encoder.safetensors").toURI());
        Path dec = Path.of(Taef2Provider.class.getResource(Taef2Provider.RESOURCES + "taef2_decoder.safetensors").toURI());
        try (SafeTensorsFile e = Weights.open(enc); SafeTensorsFile d = Weights.open(dec); Taef2 t = Taef2.load("taef2", e, d, be)) {
            assertEquals(79, e.names().size());
            assertEquals(79, d.names().size());
            assertWidenedExactly(t.encoder.namedParameters(), e, "", DType.F16);
            assertWidenedExactly(t.decoder.namedParameters(), d, "", DType.F16);
            long params = t.encoder.parameterCount() + t.decoder.parameterCount();
            assertTrue(params > 2_600_000 && params < 2_800_000, "parameters " + params);
        }
    }

    @Test
    void bfloat16FileFromPyTorchWidensExactly() throws Exception {
        try (SafeTensorsFile f = Weights.open(GoldenParityTest.golden("sdvae_small.safetensors")); SdVae v = SdVae.load("v", f, be)) {
            assertWidenedExactly(v.vae.namedParameters(), f, "", DType.BF16);
        }
    }

    /** A copy of the small SD-VAE with each tensor renamed by {@code rename} (null drops it), F32, same metadata. */
    Path rewrite(String file, java.util.function.UnaryOperator<String> rename, Map<String, long[]> reshape) throws Exception {
        Path out = dir.resolve(file);
        try (SafeTensorsFile f = Weights.open(GoldenParityTest.golden("sdvae_small.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().putMetadata(f.metadata());
            for (TensorInfo t : f.tensors()) {
                String n = rename.apply(t.name());
                if (n != null) {
                    w.add(n, reshape.getOrDefault(n, t.shape()), f.readFloats(t.name()));
                }
            }
            w.write(out);
        }
        return out;
    }

    float[] decodeGolden(Autoencoder ae) throws Exception {
        try (SafeTensorsFile io = Weights.open(GoldenParityTest.golden("io.safetensors")); Scope s = Scope.open()) {
            return ae.decode(Tensor.of(be, io.readFloats("sdvae.z"), 2, 4, 8, 12)).toArray();
        }
    }

    @Test
    void olderDiffusersAttentionNamesAndConvShapedProjectionsLoad() throws Exception {
            Path legacy = rewrite("legacy.safetensors", n -> n.replace(".to_q.", ".query.").replace(".to_k.", ".key.")
                    .replace(".to_v.", ".value.").replace(".to_out.0.", ".proj_attn."), Map.of(
                    "decoder.mid_block.attentions.0.query.weight", new long[] {32, 32, 1, 1}));
            float[] want;
            try (Autoencoder ae = registry.open(GoldenParityTest.golden("sdvae_small.safetensors").toString(), dir, be)) {
                want = decodeGolden(ae);
            }
            try (Autoencoder ae = registry.open(legacy.toString(), dir, be)) {
                assertTrue(ae.name().startsWith("sd-vae"), ae.name());
                assertEquals(0, Arrays.compare(want, decodeGolden(ae)));
            }
    }

    InputException refused(String spec) {
        return assertThrows(InputException.class, () -> registry.open(spec, dir, be).close());
    }

    @Test
    void badFilesAreOneLineNamingTheFile() throws Exception {
        Path good = GoldenParityTest.golden("sdvae_small.safetensors");
        assertTrue(refused("missing.safetensors").getMessage().contains("missing.safetensors: no such file"));
        assertTrue(refused("tae").getMessage().contains("neither an autoencoder name (sd-vae, taef2) nor an existing file"));
        assertTrue(refused(dir.toString()).getMessage().contains("is a directory"));

        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(bytes, bytes.length / 2));
        String m = refused("cut.safetensors").getMessage();
        assertTrue(m.startsWith(cut.toString() + ": ") && m.contains("data_offsets"), m);

        Path text = Files.writeString(dir.resolve("text.safetensors"), "not a safetensors file at all");
        assertTrue(refused("text.safetensors").getMessage().startsWith(text + ": "));

        Path other = dir.resolve("other.safetensors");
        new SafeTensorsWriter().add("w", new long[] {2}, new float[] {1, 2}).write(other);
        assertTrue(refused("other.safetensors").getMessage().contains(other + ": not the weights of a known autoencoder"));

        rewrite("lacking.safetensors", n -> n.equals("decoder.conv_out.bias") ? null : n, Map.of());
        m = refused("lacking.safetensors").getMessage();
        assertTrue(m.contains("lacking.safetensors: tensor decoder.conv_out.bias: missing (expected shape [3]"), m);

        rewrite("extra.safetensors", n -> n.equals("decoder.conv_out.bias") ? "decoder.conv_out.bias2" : n, Map.of());
        m = refused("extra.safetensors").getMessage();
        assertTrue(m.contains("tensor decoder.conv_out.bias: missing"), m);

        rewrite("shape.safetensors", n -> n, Map.of("quant_conv.bias", new long[] {2, 4}));
        m = refused("shape.safetensors").getMessage();
        assertTrue(m.contains("shape.safetensors: tensor quant_conv.bias: expected shape [8], found [2, 4]"), m);
        assertEquals(1, m.lines().count());
    }

    @Test
    void unexpectedTensorsAreNamed() throws Exception {
        Path p = dir.resolve("plus.safetensors");
        try (SafeTensorsFile f = Weights.open(GoldenParityTest.golden("sdvae_small.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().putMetadata(f.metadata());
            for (TensorInfo t : f.tensors()) {
                w.add(t.name(), t.shape(), f.readFloats(t.name()));
            }
            w.add("decoder.extra.weight", new long[] {1}, new float[] {0}).write(p);
        }
        InputException e = refused("plus.safetensors");
        assertInstanceOf(InputException.class, e);
        assertTrue(e.getMessage().contains("plus.safetensors: tensor decoder.extra.weight: not a parameter of AutoencoderKL("),
                e.getMessage());
    }

    @Test
    void taef2ByNameAndSdVaeWithoutWeights() {
        try (Autoencoder t = registry.open("taef2", dir, be)) {
            assertEquals("taef2", t.name());
            assertEquals(1f, t.scaling());
            assertEquals(0f, t.shift());
        }
        assertTrue(refused("sd-vae").getMessage().contains("sd-vae-ft-mse"));
    }
}
