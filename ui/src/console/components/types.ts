// Props shapes shared between the console's components and the pages that feed them.

export interface MapPoint {
  id: string;
  lat: number;
  lon: number;
  label?: string;
  color?: string;
}

export interface MapTrack {
  id: string;
  /** WGS-84 [lat, lon] in order of time. */
  points: [number, number][];
  label?: string;
  color?: string;
}

export interface ViewerPhoto {
  sha256: string;
  /** e.g. before / after, or the history step the photo belongs to. */
  caption?: string;
}
