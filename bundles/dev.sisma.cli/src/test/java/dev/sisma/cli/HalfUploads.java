package dev.sisma.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;

import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;

/** Test support: a backend that notes the format of each weight uploaded at 16 bits (one per Linear in halfLinearWeights). */
final class HalfUploads {
    private HalfUploads() {
    }

    /** {@code backend}, adding each {@code uploadHalf}'s format to {@code uploads}. */
    static Backend recording(Backend backend, List<DType> uploads) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            if (method.getName().equals("uploadHalf")) {
                uploads.add((DType) args[1]);
            }
            try {
                return method.invoke(backend, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }
}
