import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of one of S3's XML answers (error documents, listings, multipart replies), as a
/// small tree: answers are read whole and bounded by the caller (`S3Client.send`'s `maxBody`),
/// and only element names and text matter (S3 puts no data in attributes).
final class S3XML {
    let name: String
    var text = ""
    var children: [S3XML] = []

    init(name: String) { self.name = name }

    func child(_ name: String) -> S3XML? { children.first { $0.name == name } }
    func all(_ name: String) -> [S3XML] { children.filter { $0.name == name } }
    func value(_ name: String) -> String? { child(name)?.text }

    /// The document's root element, or nil if `data` is not well-formed XML. External entities
    /// are never resolved.
    static func parse(_ data: Data) -> S3XML? {
        guard !data.isEmpty else { return nil }
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: S3XML?
        var stack: [S3XML] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let element = S3XML(name: elementName)
            if let parent = stack.last { parent.children.append(element) } else { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }

    /// Text with the five characters XML reserves escaped (XML 1.0 section 2.4).
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
