extension Duration {
    /// The duration in seconds, as a Double (for figures, metrics and calibration).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
