// Decentlab DL-PM particulate matter, temperature, humidity and pressure sensor — decodeUplink
// codec written for bysans from the Decentlab DL-PM documentation (protocol v2).
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 5) return { errors: ['payload too short'] };
  if (b[0] !== 2) return { errors: ['unsupported protocol version ' + b[0]] };
  function u16(i) { return (b[i] << 8) | b[i + 1]; }
  var data = { protocol_version: b[0], device_id: u16(1) };
  var flags = u16(3);
  var sensors = [
    [1, function (x) { data.battery_voltage = x[0] / 1000; }],
    [10, function (x) {
      data.pm1_0_mass_concentration = x[0] / 10;
      data.pm2_5_mass_concentration = x[1] / 10;
      data.pm4_mass_concentration = x[2] / 10;
      data.pm10_mass_concentration = x[3] / 10;
      data.typical_particle_size = x[4];
      data.pm0_5_number_concentration = x[5] / 10;
      data.pm1_0_number_concentration = x[6] / 10;
      data.pm2_5_number_concentration = x[7] / 10;
      data.pm4_number_concentration = x[8] / 10;
      data.pm10_number_concentration = x[9] / 10;
    }],
    [2, function (x) {
      data.air_temperature = 175.72 * x[0] / 65536 - 46.85;
      data.air_humidity = 125 * x[1] / 65536 - 6;
    }],
    [1, function (x) { data.barometric_pressure = x[0] * 2; }],
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
