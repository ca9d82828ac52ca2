// Decentlab DL-IAM indoor ambiance monitor — decodeUplink codec written for bysans from the
// Decentlab DL-IAM datasheet (protocol v2: version, device id, sensor flags, 16-bit values).
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 5) return { errors: ['payload too short'] };
  if (b[0] !== 2) return { errors: ['unsupported protocol version ' + b[0]] };
  function u16(i) { return (b[i] << 8) | b[i + 1]; }
  var data = { protocol_version: b[0], device_id: u16(1) };
  var flags = u16(3);
  var sensors = [
    [1, function (x) { data.battery_voltage = x[0] / 1000; }],
    [2, function (x) {
      data.air_temperature = 175 * x[0] / 65535 - 45;
      data.air_humidity = 100 * x[1] / 65535;
    }],
    [1, function (x) { data.barometric_pressure = x[0] * 2; }],
    [2, function (x) {
      data.ambient_light_visible_infrared = x[0];
      data.ambient_light_infrared = x[1];
      data.illuminance = Math.max(Math.max(1.0 * x[0] - 1.64 * x[1], 0.59 * x[0] - 0.86 * x[1]), 0) * 1.5504;
    }],
    [3, function (x) {
      data.co2_concentration = x[0] - 32768;
      data.co2_sensor_status = x[1];
      data.raw_ir_reading = x[2];
    }],
    [1, function (x) { data.activity_counter = x[0]; }],
    [1, function (x) { data.total_voc = x[0]; }],
  ];
  var pos = 5;
  for (var s = 0; s < sensors.length; s++) {
    if ((flags & (1 << s)) === 0) continue;
    var n = sensors[s][0], vals = [];
    if (pos + 2 * n > b.length) return { errors: ['payload truncated in sensor ' + s] };
    for (var k = 0; k < n; k++) { vals.push(u16(pos)); pos += 2; }
    sensors[s][1](vals);
  }
  return { data: data };
}
