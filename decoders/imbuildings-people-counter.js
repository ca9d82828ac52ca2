// IMBuildings LoRaWAN people counter — decodeUplink codec written for bysans from IMBuildings'
// published payload description (device type 2 = people counter, variant 6..8 layout).
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 2) return { errors: ['payload too short'] };
  function u16(i) { return (b[i] << 8) | b[i + 1]; }
  function hex(i, n) {
    var s = '';
    for (var k = i; k < i + n; k++) s += (b[k] < 16 ? '0' : '') + b[k].toString(16);
    return s;
  }
  var type = b[0], variant = b[1];
  if (type !== 2) return { errors: ['unsupported IMBuildings device type ' + type] };
  if (variant < 6 || variant > 8) return { errors: ['unsupported people counter variant ' + variant] };
  if (b.length < 23) return { errors: ['people counter payload needs 23 bytes, got ' + b.length] };
  return {
    data: {
      device_type_identifier: type,
      device_type: 'People Counter',
      device_type_variant: variant,
      device_id: hex(2, 8),
      device_status: b[10],
      battery_voltage: u16(11) / 100,
      counter_a: u16(13),
      counter_b: u16(15),
      sensor_status: b[17],
      total_counter_a: u16(18),
      total_counter_b: u16(20),
      payload_counter: b[22],
    },
  };
}
