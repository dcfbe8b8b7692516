import { notImplemented } from "../shared/respond";

export default {
  async fetch(): Promise<Response> {
    return notImplemented("api");
  },
};
