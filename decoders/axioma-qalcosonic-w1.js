// Axioma Qalcosonic W1 ultrasonic water meter — decodeUplink codec written for bysans from
// Axioma's published payload description ("enhanced 24h" frame: header, timestamp, status, log
// volume in litres, then 23 hourly delta volumes packed as 14-bit little-endian bit fields).
function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 10) return { errors: ['payload too short: ' + b.length + ' bytes'] };
  function u32le(i) { return ((b[i + 3] << 24) >>> 0) + ((b[i + 2] << 16) | (b[i + 1] << 8) | b[i]); }
  var ts = u32le(1);
  var status = b[5];
  var data = {
    frame_version: b[0],
    payload_bytes: b.length,
    timestamp_unix: ts,
    timestamp_utc: new Date(ts * 1000).toISOString(),
    // Raw status byte; 0 = no alarms. Per-bit alarm flags are not decoded (not verified).
    status: status,
    log_volume_m3: u32le(6) / 1000,
  };
  var bitPos = 10 * 8, total = 0, count = 0;
  while (count < 23 && bitPos + 14 <= b.length * 8) {
    var v = 0;
    for (var k = 0; k < 14; k++) {
      var bit = (b[(bitPos + k) >> 3] >> ((bitPos + k) & 7)) & 1;
      v |= bit << k;
    }
    bitPos += 14;
    count++;
    total += v;
    data['delta_' + count + '_m3'] = v / 1000;
  }
  data.history_count = count;
  data.history_total_m3 = total / 1000;
  data.current_volume_m3 = (u32le(6) + total) / 1000;
  return { data: data };
}
