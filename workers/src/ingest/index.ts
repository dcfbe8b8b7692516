import { notImplemented } from "../shared/respond";

export default {
  async fetch(): Promise<Response> {
    return notImplemented("ingest");
  },
  async scheduled(): Promise<void> {
    throw new Error("the ingest runtime is not implemented yet");
  },
};
