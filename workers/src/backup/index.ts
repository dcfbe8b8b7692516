import { notImplemented } from "../shared/respond";

export default {
  async fetch(): Promise<Response> {
    return notImplemented("backup");
  },
  async scheduled(): Promise<void> {
    throw new Error("the backup runtime is not implemented yet");
  },
};
