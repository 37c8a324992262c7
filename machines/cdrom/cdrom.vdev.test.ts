import { describe, expect, it } from 'vitest';
import { mediaPathOf, stubdomFdset, tryStubdomFdset, tryVdevToDevid, vdevToDevid } from './cdrom.vdev.ts';
import { parseXlStep } from './cdrom.steps.ts';

describe('vdev → devid (reference 4.1)', () => {
  it.each([
    ['hda', 768],
    ['hdb', 832],
    ['hdc', 5632],
    ['hdd', 5696],
    ['sda', 2048],
    ['sdb', 2064],
    ['sdc', 2080],
    ['xvda', 51712],
    ['xvdb', 51728],
    ['xvdc', 51744],
    ['xvdd', 51760],
  ])('maps %s to %i (reference examples)', (vdev, devid) => {
    expect(vdevToDevid(vdev)).toBe(devid);
  });

  it('maps partitions: xvda1 51713, hda1 769, hdc63 5695, sdp15 2303', () => {
    expect(vdevToDevid('xvda1')).toBe(51713);
    expect(vdevToDevid('hda1')).toBe(769);
    expect(vdevToDevid('hdc63')).toBe(5632 + 63);
    expect(vdevToDevid('sdp15')).toBe((8 << 8) | (15 << 4) | 15);
  });

  it('uses extended ids past disk 15 or partition 15: xvdq 268439552, xvda16, xvdaa', () => {
    expect(vdevToDevid('xvdq')).toBe(268439552);
    expect(vdevToDevid('xvda16')).toBe((1 << 28) | 16);
    expect(vdevToDevid('xvdaa')).toBe((1 << 28) | (26 << 8));
    expect(vdevToDevid('xvdp15')).toBe((202 << 8) | (15 << 4) | 15);
  });

  it('reads d<disk>p<part>: d0p0 51712, d2p1 51745, d16p0 extended, d0p16 extended', () => {
    expect(vdevToDevid('d0p0')).toBe(51712);
    expect(vdevToDevid('d2p1')).toBe(51745);
    expect(vdevToDevid('d16p0')).toBe((1 << 28) | (16 << 8));
    expect(vdevToDevid('d0p16')).toBe((1 << 28) | 16);
  });

  it('takes a plain decimal or hex integer as the devid', () => {
    expect(vdevToDevid('5632')).toBe(5632);
    expect(vdevToDevid('0x1600')).toBe(5632);
    expect(vdevToDevid('0')).toBe(0);
  });

  it.each(['', 'hde', 'hda64', 'sdq', 'sda16', 'xvd', 'xvda01', 'xvda256', 'hdA', 'foo', 'd1048576p0', 'd0p256', '-1', '0x', '4294967296', 'xvda1x', 'xvdB'])(
    'rejects the invalid name %j',
    (vdev) => {
      expect(tryVdevToDevid(vdev)).toBeUndefined();
      expect(() => vdevToDevid(vdev)).toThrow(/invalid virtual device name/);
    },
  );
});

describe('stub-domain fdset id (seed 000)', () => {
  it('is 8000 + drive letter index: hda 8000, hdc 8002, xvdd 8003', () => {
    expect(stubdomFdset('hda')).toBe(8000);
    expect(stubdomFdset('hdc')).toBe(8002);
    expect(stubdomFdset('xvdd')).toBe(8003);
  });

  it('reads only the first letter after the prefix, as libxl does (xvdaa -> 8000)', () => {
    expect(stubdomFdset('xvdaa')).toBe(8000);
  });

  it.each(['sdc', 'd0p0', '5632', 'hd', 'xvd', 'hd1', 'vda'])('any other vdev form is an error: %j', (vdev) => {
    expect(tryStubdomFdset(vdev)).toBeUndefined();
    expect(() => stubdomFdset(vdev)).toThrow(`disk->vdev "${vdev}" isn't hdX or xvdY`);
  });
});

describe('media named by params', () => {
  it('reads qdisk <fmt>:<path>, a raw phy path, and "" as empty', () => {
    expect(mediaPathOf('aio:/isos/x.iso')).toBe('/isos/x.iso');
    expect(mediaPathOf('qcow2:/img/a.qcow2')).toBe('/img/a.qcow2');
    expect(mediaPathOf('/isos/x.iso')).toBe('/isos/x.iso');
    expect(mediaPathOf('')).toBeUndefined();
  });
});

describe('xl step lines (seed 000 LOGD lines)', () => {
  it('parses rc lines by function', () => {
    expect(parseXlStep('libxl: debug: libxl_disk.c:1040:cdrom_insert_stubdom_ejected: Domain 5:rc=-28')).toEqual({
      step: 'stubdom-ejected',
      rc: -28,
      domid: 5,
      line: 'libxl: debug: libxl_disk.c:1040:cdrom_insert_stubdom_ejected: Domain 5:rc=-28',
    });
    expect(parseXlStep('libxl: debug: libxl_disk.c:1080:cdrom_insert_stubdom_disk_ejected_aocomplete: Domain 5:rc=0')?.step).toBe(
      'stubdom-disk-ejected',
    );
    expect(parseXlStep('libxl: debug: libxl_disk.c:1120:cdrom_insert_ejected_aodevcb: Domain 5:rc=0')?.step).toBe('stubdom-disk-attached');
    expect(parseXlStep('libxl: debug: libxl_disk.c:1375:cdrom_insert_inserted: Domain 5:rc=-28')).toMatchObject({ step: 'inserted', rc: -28 });
    expect(parseXlStep('libxl: debug: libxl_disk.c:1476:cdrom_insert_done: Domain 5:rc=0')).toMatchObject({ step: 'done', rc: 0 });
  });

  it('parses the message lines: retrying, add-fd path, stubdom id, out label, vdev refusal', () => {
    expect(parseXlStep('libxl: debug: libxl_disk.c:1379:cdrom_insert_inserted: Domain 5:Retrying QMP cdrom change')?.step).toBe('retrying');
    expect(parseXlStep('libxl: debug: libxl_disk.c:1226:cdrom_insert_ejected: Domain 5:Doing qmp add-fd path')?.step).toBe('add-fd-path');
    expect(parseXlStep('libxl: debug: libxl_disk.c:1255:cdrom_insert_ejected: Domain 5:Skipping qmp add-fd path')?.step).toBe('skip-add-fd-path');
    expect(parseXlStep('libxl: debug: libxl_disk.c:1228:cdrom_insert_ejected: Domain 5:stubdom_id=7')).toMatchObject({ step: 'stubdom-id', value: 7 });
    expect(parseXlStep('libxl: debug: libxl_disk.c:1262:cdrom_insert_ejected: Domain 5:no callback; stubdom_id=0')).toMatchObject({ step: 'stubdom-id', value: 0 });
    expect(parseXlStep('libxl: debug: libxl_disk.c:1262:cdrom_insert_ejected: Domain 5:out label rc=-3')).toMatchObject({ step: 'out-label', rc: -3 });
    expect(parseXlStep('libxl: error: libxl_disk.c:921:libxl_cdrom_insert: Domain 5:disk->vdev "sdc" isn\'t hdX or xvdY')?.step).toBe('vdev-invalid');
  });

  it('recognises libxl\'s log of QEMU\'s locked-tray refusal', () => {
    const line = "libxl: error: libxl_qmp.c:1837:qmp_ev_parse_error_messages: Domain 5:Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again";
    expect(parseXlStep(line)).toMatchObject({ step: 'eject-locked', domid: 5 });
    expect(parseXlStep("libxl: error: libxl_qmp.c:1837:qmp_ev_parse_error_messages: Domain 5:File descriptor named 'fdset-id:8002' not found")).toBeUndefined();
  });

  it('ignores lines about other things', () => {
    expect(parseXlStep('libxl: debug: libxl_device.c:1200:device_hotplug: Domain 5:rc=0')).toBeUndefined();
    expect(parseXlStep('Waiting for domain win10 (domid 5) to die [pid 1234]')).toBeUndefined();
    expect(parseXlStep('')).toBeUndefined();
  });
});
