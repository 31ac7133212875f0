package dev.sisma.engine.gpu;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.util.Dictionary;

import org.mockito.ArgumentCaptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/** A mocked BundleContext for the GPU backends' component tests: what a component registered, in order. */
public final class MockContext {
    /** One registration: type, service, properties. */
    public record Registered(Class<?> type, Object service, Dictionary<?, ?> props) {}

    /** The registration every registerService call returns (to verify unregister). */
    public final ServiceRegistration<?> registration = mock(ServiceRegistration.class);
    public final BundleContext context = mock(BundleContext.class);

    @SuppressWarnings({"unchecked", "rawtypes"})
    public MockContext() {
        when(context.registerService((Class) any(Class.class), (Object) any(), (Dictionary) any(Dictionary.class)))
                .thenReturn((ServiceRegistration) registration);
    }

    /** The first registration made (the default device; one per further device follows). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Registered first() {
        ArgumentCaptor<Class> type = ArgumentCaptor.forClass(Class.class);
        ArgumentCaptor<Object> service = ArgumentCaptor.forClass(Object.class);
        ArgumentCaptor<Dictionary> props = ArgumentCaptor.forClass(Dictionary.class);
        verify(context, atLeastOnce()).registerService((Class) type.capture(), (Object) service.capture(), (Dictionary) props.capture());
        return new Registered(type.getAllValues().get(0), service.getAllValues().get(0), props.getAllValues().get(0));
    }
}
