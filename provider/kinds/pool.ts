// The Pool provider object, as the module Pulumi stores a reference to when the package is installed (dynamic.ts).
import { closureProvider } from "../dynamic";

export = closureProvider("Pool");
