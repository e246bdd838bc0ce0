import Foundation
import TFHE

// A programmable bootstrap on TFHE-rs's 2_2 set (128-bit security): any function of a 4-bit message.
let params = try ParameterSet.load(contentsOf: URL(fileURLWithPath: "params/tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128.json"))
let client = try ClientKey<UInt64>(parameters: params)        // secret: LWE and GLWE keys
let server = ServerKey(clientKey: client)                      // public: Fourier bootstrapping key + key-switching key
let square = server.lookupTable { ($0 * $0) % 16 }             // any function on the message space
let squared = try server.programmableBootstrap(try client.encrypt(3), table: square)
print("3 squared mod 16:", try client.decrypt(squared))        // 9

// Boolean gates on TFHE-rs's boolean set (a 32-bit torus).
let booleanParams = try ParameterSet.load(contentsOf: URL(fileURLWithPath: "params/tfhe-rs_boolean_default.json"))
let bits = try ClientKey<UInt32>(parameters: booleanParams)
let gates = ServerKey(clientKey: bits)
let and = try gates.and(bits.encrypt(true), bits.encrypt(false))   // and, or, xor, nand, nor, xnor, not, mux
print("true AND false:", try bits.decryptBool(and))                 // false
// A circuit layer: one gate on many pairs, bootstrapped in one pass over the keys.
let pairs = [(true, true), (true, false), (false, true), (false, false)].map { (bits.encrypt($0), bits.encrypt($1)) }
let layer = try gates.evaluate(.xor, pairs: pairs, scratches: gates.makeBatchScratch(capacity: pairs.count))
print("XOR layer:", try layer.map { try bits.decryptBool($0) })     // [false, true, true, false]
