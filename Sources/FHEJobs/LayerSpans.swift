import Jobs
import Synchronization
import Tracing

/// One `fhe.layer` span per bootstrap layer of an encrypted evaluation, each ended when the
/// next begins. The engine calls its layer observer on whichever thread runs the program, so
/// the spans are parented explicitly on the context captured when the evaluation began rather
/// than on the calling thread's task-local one.
final class LayerSpans: Sendable {
    private let context: ServiceContext
    private let current = Mutex<(index: Int, span: (any Span)?)>((0, nil))

    init(context: ServiceContext = .current ?? .topLevel) { self.context = context }

    /// Ends the running layer's span and starts the next one's.
    func begin(bootstraps: Int) {
        current.withLock { current in
            current.span?.end()
            let span = startSpan(JobSpans.layer, context: context)
            span.attributes[JobSpans.layerIndex] = current.index
            span.attributes[JobSpans.bootstraps] = bootstraps
            current = (current.index + 1, span)
        }
    }

    /// Ends the last layer's span.
    func finish() {
        current.withLock { current in
            current.span?.end()
            current.span = nil
        }
    }
}
