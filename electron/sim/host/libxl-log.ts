/**
 * libxl's log lines as they reach xl's stderr (or xl-<name>.log under the
 * monitor): `libxl: <level>: <file>:<line>:<func>: Domain <id>:<message>`,
 * filtered by xl's verbosity (default progress; each -v lowers it one level).
 * Source locations are those of Xen 4.17.7's tools/libs/light.
 */
export const LEVELS = { debug: 1, verbose: 2, detail: 3, progress: 4, info: 5, notice: 6, warning: 7, error: 8, critical: 9 } as const;
export type Level = keyof typeof LEVELS;

export interface LibxlLogger {
  /** Lowest level printed (xl: progress, minus one per -v). */
  minLevel: number;
  write(line: string): void;
}

export const silentLogger: LibxlLogger = { minLevel: 99, write: () => undefined };

export function libxlLog(lg: LibxlLogger, level: Level, where: string, domid: number | undefined, msg: string): void {
  if (LEVELS[level] < lg.minLevel) return;
  const dom = domid !== undefined && domid > 0 && domid < 0x7ff0 ? `Domain ${domid}:` : '';
  lg.write(`libxl: ${level}: ${where}: ${dom}${msg}`);
}

/** Locations of the messages the simulated toolstack prints. */
export const AT = {
  aoCreate: 'libxl_event.c:2037:libxl__ao_create',
  aoComplete: 'libxl_event.c:2067:libxl__ao_complete',
  aoInprogress: 'libxl_event.c:2110:libxl__ao_inprogress',
  runBootloader: 'libxl_create.c:1340:initiate_domain_create',
  diskBackend: 'libxl_device.c:470:libxl__device_disk_set_backend',
  diskSpec: 'libxl_device.c:433:libxl__device_disk_set_backend',
  devstateOk: 'libxl_event.c:1051:devstate_callback',
  devstateWait: 'libxl_event.c:1054:devstate_callback',
  devstateTimeout: 'libxl_event.c:1038:devstate_callback',
  hotplugCall: 'libxl_device.c:1269:device_hotplug',
  hotplugNone: 'libxl_device.c:1254:device_hotplug',
  hotplugScriptError: 'libxl_device.c:1337:device_hotplug_child_death_cb',
  deviceAddFail: 'libxl_device.c:1181:device_backend_callback',
  qemuVersion: 'libxl_qmp.c:1699:qmp_ev_handle_message',
  qmpError: 'libxl_qmp.c:1837:qmp_ev_parse_error_messages',
  cdromNotHvm: 'libxl_disk.c:838:libxl_cdrom_insert',
  cdromStub: 'libxl_disk.c:844:libxl_cdrom_insert',
  cdromNoDev: 'libxl_disk.c:866:libxl_cdrom_insert',
  cdromStep: 'libxl_disk.c:1473:cdrom_insert_done',
  cdromRetry: 'libxl_disk.c:1379:cdrom_insert_inserted',
  destroyFail: 'libxl_domain.c:1181:domain_destroy_domid_cb',
  removeTimeout: 'libxl_device.c:1174:device_backend_callback',
  backendGone: 'libxl_device.c:1067:libxl__initiate_device_generic_remove',
} as const;
