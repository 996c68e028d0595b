/**
 * The payload key of every test run. Fixed (and only ever used by tests) so
 * that recorded histories in test/replay/histories stay decodable.
 */
export const TEST_PAYLOAD_KEY = 'YWRtaXQtdGVzdC1wYXlsb2FkLWtleS0zMi1ieXRlcyE=';
