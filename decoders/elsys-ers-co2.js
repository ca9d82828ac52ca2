// Elsys ERS CO2 (and the ERS family) — TTN/ChirpStack decodeUplink codec written for bysans from
// Elsys' published payload documentation (ELSYS LoRaWAN payload structure: type byte + value).
// Output keys: temperature (°C), humidity (%), light (lx), motion (count), co2 (ppm), vdd (mV), ...
function decodeUplink(input) {
  var b = input.bytes;
  var data = {};
  var warnings = [];
  function u16(i) { return (b[i] << 8) | b[i + 1]; }
  function s16(i) { var v = u16(i); return v > 0x7fff ? v - 0x10000 : v; }
  function u32(i) { return ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]); }
  function need(i, n, name) {
    if (i + n > b.length) throw new Error('truncated ' + name + ' at byte ' + i);
  }
  var i = 0;
  while (i < b.length) {
    var type = b[i++];
    switch (type) {
      case 0x01: need(i, 2, 'temperature'); data.temperature = s16(i) / 10; i += 2; break;
      case 0x02: need(i, 1, 'humidity'); data.humidity = b[i]; i += 1; break;
      case 0x03: need(i, 3, 'acceleration');
        data.x = b[i] > 127 ? b[i] - 256 : b[i];
        data.y = b[i + 1] > 127 ? b[i + 1] - 256 : b[i + 1];
        data.z = b[i + 2] > 127 ? b[i + 2] - 256 : b[i + 2];
        i += 3; break;
      case 0x04: need(i, 2, 'light'); data.light = u16(i); i += 2; break;
      case 0x05: need(i, 1, 'motion'); data.motion = b[i]; i += 1; break;
      case 0x06: need(i, 2, 'co2'); data.co2 = u16(i); i += 2; break;
      case 0x07: need(i, 2, 'vdd'); data.vdd = u16(i); i += 2; break;
      case 0x08: need(i, 2, 'analog1'); data.analog1 = u16(i); i += 2; break;
      case 0x0a: need(i, 2, 'pulse1'); data.pulse1 = u16(i); i += 2; break;
      case 0x0b: need(i, 4, 'pulseAbs'); data.pulseAbs = u32(i); i += 4; break;
      case 0x0c: need(i, 2, 'externalTemperature'); data.externalTemperature = s16(i) / 10; i += 2; break;
      case 0x0d: need(i, 1, 'digital'); data.digital = b[i]; i += 1; break;
      case 0x0e: need(i, 2, 'distance'); data.distance = u16(i); i += 2; break;
      case 0x0f: need(i, 1, 'accMotion'); data.accMotion = b[i]; i += 1; break;
      case 0x10: need(i, 4, 'irTemp');
        data.irInternalTemperature = s16(i) / 10; data.irExternalTemperature = s16(i + 2) / 10;
        i += 4; break;
      case 0x11: need(i, 1, 'occupancy'); data.occupancy = b[i]; i += 1; break;
      case 0x12: need(i, 1, 'waterleak'); data.waterleak = b[i]; i += 1; break;
      case 0x14: need(i, 4, 'pressure'); data.pressure = u32(i) / 1000; i += 4; break;
      case 0x15: need(i, 2, 'sound'); data.soundPeak = b[i]; data.soundAvg = b[i + 1]; i += 2; break;
      case 0x1c: need(i, 2, 'tvoc'); data.tvoc = u16(i); i += 2; break;
      default:
        warnings.push('unknown data type 0x' + type.toString(16) + ' at byte ' + (i - 1));
        i = b.length;
    }
  }
  return { data: data, warnings: warnings };
}
