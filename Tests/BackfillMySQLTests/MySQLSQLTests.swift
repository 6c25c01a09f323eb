import BackfillCore
import Testing

@testable import BackfillMySQL

/// The SQL pieces and the DSN, without a server: names quoted, values never spliced in as text.
@Suite struct MySQLSQLTests {
    @Test func namesAreQuotedWithTheirBackticksDoubled() {
        #expect(MySQLSQL.quoted("orders") == "`orders`")
        #expect(MySQLSQL.quoted("we`ird") == "`we``ird`")
        #expect(MySQLSQL.quoted("a.b") == "`a.b`")
    }

    @Test func valuesBecomeLiteralsThatReadBackExactly() throws {
        #expect(try MySQLSQL.literal(.null) == "NULL")
        #expect(try MySQLSQL.literal(.integer(-42)) == "-42")
        #expect(try MySQLSQL.literal(.real(0.1)) == "0.1E0")
        #expect(try MySQLSQL.literal(.real(1e-7)) == "1e-07")
        // A quote, a backslash and a NUL are only bytes of a hex literal.
        #expect(try MySQLSQL.literal(.text("a'\\\u{0}")) == "_utf8mb4 X'61275C00'")
        #expect(try MySQLSQL.literal(.blob([0xDE, 0xAD])) == "X'DEAD'")
        // A BIGINT UNSIGNED beyond Int64 arrives as text; into an integer column it is the number.
        let unsigned = MySQLColumnType(dataType: "bigint", columnType: "bigint(20) unsigned")
        #expect(try MySQLSQL.literal(.text("18446744073709551615"), for: unsigned) == "18446744073709551615")
        #expect(try MySQLSQL.literal(.text("007"), for: MySQLColumnType(dataType: "varchar", columnType: "varchar(3)")) == "_utf8mb4 X'303037'")
        #expect(throws: BackfillError.self) { try MySQLSQL.literal(.real(.nan)) }
    }

    @Test("a timestamp for a DATETIME or TIMESTAMP column goes in UTC, its offset applied; other text goes as it is")
    func timestampsGoInUTC() throws {
        let datetime = MySQLColumnType(dataType: "datetime", columnType: "datetime(6)")
        let timestamp = MySQLColumnType(dataType: "timestamp", columnType: "timestamp(6)")
        #expect(try MySQLSQL.literal(.text("2024-03-10 01:30:00.5+05:30"), for: datetime) == "'2024-03-09 20:00:00.5'")
        #expect(try MySQLSQL.literal(.text("2024-12-31 23:59:59.000001-01"), for: timestamp) == "'2025-01-01 00:59:59.000001'")
        #expect(try MySQLSQL.literal(.text("2024-01-01T00:00:00Z"), for: datetime) == "'2024-01-01 00:00:00'")
        #expect(try MySQLSQL.literal(.text("2024-01-01 08:00:00"), for: datetime) == "'2024-01-01 08:00:00'", "no offset: UTC already")
        // Not a timestamp (MySQL's zero date, PostgreSQL's infinity): the server takes it or refuses it.
        #expect(try MySQLSQL.literal(.text("0000-00-00 00:00:00"), for: datetime) == "_utf8mb4 X'303030302D30302D30302030303A30303A3030'")
        #expect(try MySQLSQL.literal(.text("infinity"), for: timestamp) == "_utf8mb4 X'696E66696E697479'")
        #expect(try MySQLSQL.literal(.text("2024-03-10 01:30:00+05:30"), for: MySQLColumnType(dataType: "varchar", columnType: "varchar(40)"))
            .hasPrefix("_utf8mb4 X'"))
    }

    @Test func compositeKeysCompareColumnByColumnAndTextKeysAsBytes() throws {
        let sql = MySQLKeysetSQL(
            table: "t", columns: ["a", "b", "v"], key: ["a", "b"],
            keyTypes: [MySQLColumnType(dataType: "bigint", columnType: "bigint"), MySQLColumnType(dataType: "varchar", columnType: "varchar(9)")],
            whereClause: nil)
        #expect(
            try sql.compare(after: [.integer(1), .text("x")], strict: true)
                == "((`a` > 1) OR (`a` = 1 AND BINARY `b` > _utf8mb4 X'78'))")
        #expect(sql.orderBy == "`a`, BINARY `b`")
        let latin1 = MySQLColumnType(dataType: "varchar", columnType: "varchar(9)", charset: "latin1", collation: "latin1_swedish_ci")
        #expect(latin1.byteOrdered("`w`") == "CAST(CONVERT(`w` USING utf8mb4) AS BINARY)")
        #expect(latin1.matchesLoosely)
        #expect(try sql.keyIn([[.integer(1), .text("x")]]) == "(`a`, `b`) IN ((1, _utf8mb4 X'78'))")
    }

    @Test func integerBucketsSpanTheKeysDivPutsInThem() {
        // `DIV` truncates toward zero: bucket 0 holds -31...31, bucket -1 holds -63...-32.
        #expect(MySQLSource.lowestKey(of: 0, width: 32) == -31)
        #expect(MySQLSource.highestKey(of: 0, width: 32) == 31)
        #expect(MySQLSource.lowestKey(of: 2, width: 32) == 64)
        #expect(MySQLSource.highestKey(of: 2, width: 32) == 95)
        #expect(MySQLSource.lowestKey(of: -1, width: 32) == -63)
        #expect(MySQLSource.highestKey(of: -1, width: 32) == -32)
        // At Int64's ends the span is clamped, never wrapped.
        #expect(MySQLSource.highestKey(of: Int64.max / 32, width: 32) == .max)
        #expect(MySQLSource.lowestKey(of: Int64.min / 32, width: 32) == .min)
        #expect(MySQLSource.lowestKey(of: .max, width: 32) == .max)
    }

    @Test func rowHashesJoinNumbersAsTheyPrintAndOtherValuesAfterTheirLength() {
        let types = [
            MySQLColumnType(dataType: "bigint", columnType: "bigint(20)"), MySQLColumnType(dataType: "varchar", columnType: "varchar(9)"),
            MySQLColumnType(dataType: "datetime", columnType: "datetime(6)"),
        ]
        let hash = MySQLRowHashSQL.rowHash(["id", "we`ird", "at"], types: types)
        #expect(hash.contains("CONCAT_WS('#', `id`, LENGTH(CAST(`we``ird` AS BINARY)), CAST(`we``ird` AS BINARY), `at`, CONCAT(ISNULL(`id`), ISNULL(`we``ird`), ISNULL(`at`)))"))
        #expect(hash.hasPrefix("CAST(CONV(LEFT(MD5("))
    }

    @Test func theDSNTakesOnlyKnownParametersAndNeverShowsThePassword() throws {
        let dsn = try MySQLDSN("mysql://app:s3cret@db.internal:3307/shop?ssl-mode=verify-identity&lock-wait-timeout=3")
        #expect(dsn.host == "db.internal" && dsn.port == 3307 && dsn.database == "shop" && dsn.user == "app")
        #expect(dsn.tls == .verifyIdentity && dsn.lockWaitTimeout == 3)
        #expect(!dsn.description.contains("s3cret"))
        for (text, message) in [
            ("mysql://app:s3cret@db/shop?colour=blue", "unknown connection parameter 'colour'"),
            ("mysql://app:s3cret@db/", "names no database"),
            ("mysql://app:s3cret@db/shop?ssl-mode=maybe", "ssl-mode must be"),
            ("postgres://app:s3cret@db/shop", "not a MySQL connection string"),
        ] {
            do {
                _ = try MySQLDSN(text)
                Issue.record("\(text) was accepted")
            } catch let error as BackfillError {
                #expect(error.description.contains(message), "\(error)")
                #expect(!error.description.contains("s3cret"))
            }
        }
    }

    @Test func serverMessagesLoseTheValuesTheyQuote() {
        #expect(MySQLErrors.withoutValues("Duplicate entry 'alice@example.com' for key 'PRIMARY'") == "Duplicate entry … for key 'PRIMARY'")
        #expect(
            MySQLErrors.withoutValues("Incorrect integer value: 'abc' for column `db`.`t`.`n` at row 1")
                == "Incorrect integer value: … for column `db`.`t`.`n` at row 1")
        #expect(MySQLErrors.classify(1213) == .transient)
        #expect(MySQLErrors.classify(2013) == .transient)
        #expect(MySQLErrors.classify(1406) == .data)
        #expect(MySQLErrors.classify(1146) == .permanent)
    }
}
