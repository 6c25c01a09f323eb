/// The bytes the file parsers look for.
enum ASCII {
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let quote: UInt8 = 0x22
    static let comma: UInt8 = 0x2C
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
}
