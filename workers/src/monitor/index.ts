import { notImplemented } from "../shared/respond";

export default {
  async fetch(): Promise<Response> {
    return notImplemented("monitor");
  },
  async scheduled(): Promise<void> {
    throw new Error("the monitor runtime is not implemented yet");
  },
};
