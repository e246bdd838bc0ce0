/// The server key that the `FheUint` and `FheBool` operators use.
///
/// Swift operators cannot take a key argument, so the key is set for a scope with
/// `FheContext.with(key) { ... }` (a task-local value, Swift's counterpart of TFHE-rs's
/// thread-local `set_server_key`): ciphertexts stay plain values that hold no reference to
/// any key, which keeps them serializable and comparable, and two tasks can compute with
/// two different keys at once. The same operations are available as methods of
/// `IntegerServerKey` for code that prefers to pass the key explicitly; async code sets the
/// key with `FheContext.$serverKey.withValue(key) { ... }`. An operator used
/// outside any scope, or on a ciphertext of another parameter set, throws a `TFHEError`.
public enum FheContext {
    @TaskLocal public static var serverKey: IntegerServerKey<UInt64>?

    /// Runs `body` with `key` as the operators' server key.
    public static func with<R>(_ key: IntegerServerKey<UInt64>, _ body: () throws -> R) rethrows -> R {
        try $serverKey.withValue(key, operation: body)
    }

    static func current() throws -> IntegerServerKey<UInt64> {
        guard let key = serverKey else {
            throw TFHEError.unsupported("no integer server key set: run the computation inside FheContext.with(key) { ... }")
        }
        return key
    }
}
