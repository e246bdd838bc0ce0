public enum TFHEVersion { public static let string = "0.1.0" }
